"""The terminal front end (`csvanalyst chat`): a Textual app over the same Session as the CLI."""
