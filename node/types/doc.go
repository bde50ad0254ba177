// Package types defines the consensus-critical values of the node and their
// one canonical binary encoding: block headers, account messages, votes and
// certificates, with the typed names they are built from (ChainID, Height,
// Round, Epoch, ValidatorIndex, Address, Hash).
//
// The network edge decodes bytes from peers with the Decode functions and
// runs ValidateBasic on the result before handing it to a core; the cores
// (consensus, chain, execution, relay) and storage encode with AppendBinary
// and identify values by Hash (or, for messages, ID). Signature checks are
// not done here: votes and certificates expose the exact bytes BLS signs
// (Vote.AppendSigningBytes, Certificate.AppendVoteSigningBytes), messages the
// bytes Ed25519 signs (Message.AppendSigningBytes).
//
// # Invariants
//
//   - Each value has exactly one encoding, and each accepted encoding
//     re-encodes to the same bytes. Hashes and signatures are computed over
//     it, so two honest nodes always agree on them.
//   - Decoding rejects, with an error wrapping a sentinel of package
//     node/codec: input longer than the type's maximum (ErrTooLarge, checked
//     before any field is read; for the fixed-size Header and Vote any extra
//     byte counts as oversized); input ending inside a field (ErrTruncated);
//     bytes after the last field (ErrTrailingBytes); a type tag of another
//     type (ErrWrongType); a header version other than HeaderVersion
//     (ErrUnsupportedVersion); an unknown kind (ErrUnknownKind); a bool byte
//     other than 0 or 1 or set bitmap padding bits (ErrNonCanonical); a
//     length or committee size above its maximum (ErrTooLarge).
//   - Decoding never panics, and it does not allocate when it succeeds.
//     Message.Method and Message.Args alias the decoded input (Message.Clone
//     copies them); every other field is copied into the value.
//   - Encoding refuses a value the decoder would refuse or could not give
//     back (an unknown kind, an unsupported version, an oversized field, a
//     cause on an external message), so AppendBinary never writes bytes
//     that do not decode to the same value. Into a buffer with enough
//     capacity it does not allocate.
//   - Decoding checks only what the encoding can express. Rules between
//     fields (a relay message carries a cause and no signature, a
//     leader-faulty vote names no block, a certificate has a signer) are
//     ValidateBasic's, and its errors wrap ErrInvalid.
//
// # Encodings
//
// Integers are big-endian and fixed width, bools one byte 0x00 or 0x01,
// hashes, addresses, keys and signatures raw fixed-size arrays; variable
// fields carry a uint32 length (see node/codec). Every encoding starts with a
// one-byte type tag (TagHeader 0x01, TagMessage 0x02, TagVote 0x03,
// TagCertificate 0x04): the node dispatches network bytes on it with TagOf,
// and it separates the hashes of different types that happen to have the
// same field bytes. Offsets and widths are in bytes.
//
// Header (232 bytes):
//
//	off  width  field
//	  0      1  Tag = 0x01
//	  1      2  Version (must be 1)
//	  3      4  ChainID
//	  7      8  Height
//	 15      8  Epoch
//	 23      4  Round
//	 27     32  ParentHash
//	 59      8  TimestampMillis
//	 67      4  Proposer
//	 71     32  InputRoot
//	103     32  InterRelayRoot
//	135     32  OuterRelayRoot
//	167     32  RecordRoot
//	199     32  StateRoot
//	231      1  Empty (0x00 or 0x01)
//
// Message (166 + c + m + a bytes, at most 16646):
//
//	off         width  field
//	  0             1  Tag = 0x02
//	  1             1  Kind (1 external, 2 inter-relay, 3 outer-relay)
//	  2            20  From
//	 22            20  To
//	 42             4  SourceChain
//	 46             c  Cause: c = 32 for a relay kind (2, 3), the ID of the
//	                   message whose execution produced it; c = 0 for an
//	                   external message, which has no cause
//	 46+c           8  Nonce
//	 54+c           8  Value
//	 62+c           4  m = length of Method (at most 64)
//	 66+c           m  Method
//	 66+c+m         4  a = length of Args (at most 16384)
//	 70+c+m         a  Args
//	 70+c+m+a      32  SenderKey (Ed25519 public key)
//	102+c+m+a      64  Signature (Ed25519)
//
// A message's signing bytes are "thinkey/message/v1" followed by its
// encoding up to and excluding Signature. Its ID is SHA-256 of the whole
// encoding. The Kind byte decides whether Cause is present, so the field
// costs external messages, the bulk of the traffic, nothing. A relay's ID is
// unique because (Cause, Nonce) is: Nonce is the relay's index among the
// outputs of the one execution of its cause.
//
// Vote (150 bytes):
//
//	off  width  field
//	  0      1  Tag = 0x03
//	  1      4  ChainID
//	  5      8  Height
//	 13      4  Round
//	 17      1  Kind (1 prepare, 2 leader-faulty, 3 confirm)
//	 18     32  BlockHash
//	 50      4  Voter
//	 54     96  Signature (BLS12-381, compressed G2)
//
// Vote signing bytes (64 bytes), identical for every voter of the same
// (chain, height, round, kind, block), so votes aggregate:
//
//	off  width  field
//	  0     15  "thinkey/vote/v1"
//	 15      4  ChainID
//	 19      8  Height
//	 27      4  Round
//	 31      1  Kind
//	 32     32  BlockHash
//
// Certificate (150 + k bytes, k = (CommitteeSize+7)/8, at most 278):
//
//	off    width  field
//	  0        1  Tag = 0x04
//	  1        4  ChainID
//	  5        8  Height
//	 13        4  Round
//	 17        1  Kind (as in Vote)
//	 18       32  BlockHash
//	 50        4  CommitteeSize (at most 1024)
//	 54        k  Signers bitmap: member i is bit i%8 (least significant
//	              first) of byte i/8; the unused high bits of the last byte
//	              are zero
//	 54+k     96  AggregateSignature (BLS12-381, compressed G2)
//
// The bitmap has no length prefix: its length follows from CommitteeSize,
// so there is no second length to disagree with the first.
package types
