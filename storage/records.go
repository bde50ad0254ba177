package storage

import "fmt"

// PutRecord stages a node record: value under key in the node-record
// keyspace, replacing what the key held. Records are the shell's own durable
// data (a consensus member's votes and lock, the message index); the store
// neither decodes them nor ties them to a chain head, so staging one in the
// same batch as ApplyBlock is what makes the two atomic. The key is 1 to
// MaxKeySize bytes and the value at most MaxValueSize.
func (b *Batch) PutRecord(key, value []byte) error {
	if err := b.open(); err != nil {
		return err
	}
	if err := checkWrite(Write{Key: key, Value: value}); err != nil {
		return fmt.Errorf("put record: %w", err)
	}
	if err := b.batch.Set(recordKey(key), value, nil); err != nil {
		return b.fail(wrapPebble("stage record", err))
	}
	return nil
}

// Record returns a copy of the node record stored under key, or ErrNotFound.
func (db *DB) Record(key []byte) ([]byte, error) {
	v, err := db.get(recordKey(key))
	if err != nil {
		return nil, fmt.Errorf("record %x: %w", key, err)
	}
	return v, nil
}
