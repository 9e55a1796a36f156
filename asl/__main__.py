from asl.cli import main

main()
