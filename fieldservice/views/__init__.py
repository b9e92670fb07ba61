"""Read functions for the pages: each returns what one page needs in a fixed number of queries."""
