"""``pmsync demo``: a realistic IT portfolio, replayed over three monthly reporting periods against the
sandbox servers, with no credentials and no network."""
