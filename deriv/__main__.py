from deriv.cli import entry

entry()
