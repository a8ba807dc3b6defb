from lmdev.cli import main

main()
