package storage

import (
	"encoding/binary"
	"fmt"

	"github.com/thinkey/thinkey/crypto/hash"
)

// Keyspace prefixes: the first byte of every key (see the layout in doc.go).
// Values are fixed forever; a new keyspace takes a new byte.
const (
	prefixMeta      byte = 0x00
	prefixBlock     byte = 0x01
	prefixBlockHash byte = 0x02
	prefixHead      byte = 0x03
	prefixState     byte = 0x04
	prefixRecord    byte = 0x05
)

// Sizes of the fixed-length parts of keys and records.
const (
	chainKeyLen     = 1 + 4           // prefix | chain
	blockKeyLen     = chainKeyLen + 8 // prefix | chain | height
	blockHashKeyLen = chainKeyLen + hash.Size
	heightRecordLen = 8                         // height
	headRecordLen   = 8 + hash.Size + hash.Size // height | block hash | state root
	formatRecordLen = 4                         // version
)

// formatVersion is the layout version written in the format record; it
// changes on any incompatible change of the key layout or record encodings.
const formatVersion = uint32(1)

// formatKeySuffix names the format record inside the meta keyspace.
const formatKeySuffix = "format"

// chainKey returns prefix | chain, the start of one chain's part of a keyspace.
func chainKey(prefix byte, chain uint32) []byte {
	k := make([]byte, chainKeyLen, blockHashKeyLen)
	k[0] = prefix
	binary.BigEndian.PutUint32(k[1:], chain)
	return k
}

// blockKey: 0x01 | chain | height. Big-endian so a chain's blocks sort by height.
func blockKey(chain uint32, height uint64) []byte {
	return binary.BigEndian.AppendUint64(chainKey(prefixBlock, chain), height)
}

// blockHashKey: 0x02 | chain | hash.
func blockHashKey(chain uint32, blockHash hash.Digest) []byte {
	return append(chainKey(prefixBlockHash, chain), blockHash[:]...)
}

// headKey: 0x03 | chain.
func headKey(chain uint32) []byte { return chainKey(prefixHead, chain) }

// stateKey: 0x04 | chain | key.
func stateKey(chain uint32, key []byte) []byte {
	k := make([]byte, chainKeyLen, chainKeyLen+len(key))
	k[0] = prefixState
	binary.BigEndian.PutUint32(k[1:], chain)
	return append(k, key...)
}

// recordKey: 0x05 | key.
func recordKey(key []byte) []byte {
	k := make([]byte, 1, 1+len(key))
	k[0] = prefixRecord
	return append(k, key...)
}

// formatKey: 0x00 | "format".
func formatKey() []byte { return append([]byte{prefixMeta}, formatKeySuffix...) }

// upperBound returns the smallest key greater than every key that starts with
// prefix, or nil when there is none (prefix is all 0xff).
func upperBound(prefix []byte) []byte {
	end := append([]byte(nil), prefix...)
	for i := len(end) - 1; i >= 0; i-- {
		end[i]++
		if end[i] != 0 {
			return end[:i+1]
		}
	}
	return nil
}

// heightFromBlockKey decodes the height of a key of the block keyspace.
func heightFromBlockKey(key []byte) (uint64, error) {
	if len(key) != blockKeyLen || key[0] != prefixBlock {
		return 0, corrupt("block key %x: want %d bytes with prefix %#x", key, blockKeyLen, prefixBlock)
	}
	return binary.BigEndian.Uint64(key[chainKeyLen:]), nil
}

// encodeBlockRecord: block hash | block bytes.
func encodeBlockRecord(blockHash hash.Digest, block []byte) []byte {
	rec := make([]byte, 0, hash.Size+len(block))
	rec = append(rec, blockHash[:]...)
	return append(rec, block...)
}

// decodeBlockRecord splits a block record. The bytes alias rec.
func decodeBlockRecord(rec []byte) (hash.Digest, []byte, error) {
	if len(rec) <= hash.Size {
		return hash.Digest{}, nil, fmt.Errorf("block record of %d bytes, want more than %d: %w", len(rec), hash.Size, ErrCorruption)
	}
	return hash.Digest(rec[:hash.Size]), rec[hash.Size:], nil
}

// encodeHeightRecord: height, the value of the hash index.
func encodeHeightRecord(height uint64) []byte {
	return binary.BigEndian.AppendUint64(nil, height)
}

func decodeHeightRecord(rec []byte) (uint64, error) {
	if len(rec) != heightRecordLen {
		return 0, fmt.Errorf("block hash index record of %d bytes, want %d: %w", len(rec), heightRecordLen, ErrCorruption)
	}
	return binary.BigEndian.Uint64(rec), nil
}

// encodeHeadRecord: height | block hash | state root.
func encodeHeadRecord(h Head) []byte {
	rec := make([]byte, 0, headRecordLen)
	rec = binary.BigEndian.AppendUint64(rec, h.Height)
	rec = append(rec, h.BlockHash[:]...)
	return append(rec, h.StateRoot[:]...)
}

func decodeHeadRecord(rec []byte) (Head, error) {
	if len(rec) != headRecordLen {
		return Head{}, fmt.Errorf("head record of %d bytes, want %d: %w", len(rec), headRecordLen, ErrCorruption)
	}
	return Head{
		Height:    binary.BigEndian.Uint64(rec),
		BlockHash: hash.Digest(rec[8 : 8+hash.Size]),
		StateRoot: hash.Digest(rec[8+hash.Size:]),
	}, nil
}

// encodeFormatRecord: version.
func encodeFormatRecord(version uint32) []byte {
	return binary.BigEndian.AppendUint32(nil, version)
}

func decodeFormatRecord(rec []byte) (uint32, error) {
	if len(rec) != formatRecordLen {
		return 0, fmt.Errorf("format record of %d bytes, want %d: %w", len(rec), formatRecordLen, ErrCorruption)
	}
	return binary.BigEndian.Uint32(rec), nil
}
