"""Pure transforms: raw records in, warehouse tables and rejected rows out."""
