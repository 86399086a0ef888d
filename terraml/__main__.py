from terraml.cli import main

main()
