from unlearnkit.apps.cli import main

main()
