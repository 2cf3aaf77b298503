-- When the IMAP server received each message (its INTERNALDATE, ms since
-- the epoch): a reply counts when it reached the mailbox before the
-- deadline, whenever choixbot fetched it. NULL for messages recorded
-- before this column existed, or from a server that gave no date.
ALTER TABLE messages ADD COLUMN internal_date INTEGER;
