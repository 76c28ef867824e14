-- The S3 event sequencer of each file version the serverless flow recorded (issue 12): the
-- load side compares an arriving version's sequencer with its name's current one, so a
-- corrected file wins over an older version whose event arrives late. Small: on every node.
CREATE TABLE source_sequencers (
    file_id    BIGINT NOT NULL PRIMARY KEY,
    sequencer  VARCHAR(64) NOT NULL
) DISTSTYLE ALL SORTKEY (file_id);
