from importer.cli import main

main(prog_name="kombo-import")
