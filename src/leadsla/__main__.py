from leadsla.cli import main

main()
