"""One module per CLI command (group): parse options, call the library, format the result."""
