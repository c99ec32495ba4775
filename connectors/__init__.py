"""Built-in connectors, one module or small package per source system (installed as
``pmsync.connectors``). Each implements :class:`pmsync.connector.Connector`."""
