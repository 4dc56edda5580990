from fusionhub.cli import main

main()
