from sme_bot.cli import main

main()
