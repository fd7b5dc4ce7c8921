"""Servers for development, tests and the demo, never for a customer: the EWS stand-in (``ews``)
and the demo's IMAP and DNS servers with its generated company (``demo``)."""
