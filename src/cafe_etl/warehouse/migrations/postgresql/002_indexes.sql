-- PostgreSQL: the indexes that make replacing a file and joining facts cheap.
CREATE INDEX transactions_file_id ON transactions (file_id);
CREATE INDEX basket_items_transaction_id ON basket_items (transaction_id);
CREATE INDEX loaded_files_file_name ON loaded_files (file_name);
CREATE INDEX loaded_files_sha256 ON loaded_files (sha256);
CREATE INDEX rejected_rows_file_id ON rejected_rows (file_id);
