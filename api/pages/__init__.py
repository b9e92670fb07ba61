"""The three doors as server-rendered pages: the desk's console at `/`, the technician app at
`/tech`, the customer page at `/my`, and signing in from a link."""
