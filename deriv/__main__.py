from deriv.cli import main

main()
