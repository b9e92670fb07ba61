"""fieldservice package."""
