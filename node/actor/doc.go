// Package actor is the account model of paper section 5: accounts as
// actors that share no state, the system methods tran and add of
// Algorithm 1, account programs, and the processing of one message by one
// account.
//
// Package node/exec calls Process and ProcessAdds to execute a block (the
// leader) and to re-execute each account's record (the verifiers); wallets
// and the load generator build external messages with NewTransfer and
// SignExternal; the network edge runs CheckExternal. Everything here is a
// pure function of its arguments: no clock, no randomness, no I/O, no
// goroutines.
//
// # Accounts
//
// An Account is Address, Balance, Nonce, Code and Storage (paper 5.2). The
// address of an account controlled by Ed25519 key A is the first 20 bytes
// of SHA-256("thinkey/address/v1" || A); the domain keeps an address from
// being the hash of anything else. Code is a Starlark program (below);
// empty Code means the account has only the system methods. Storage is a
// sorted key/value list (keys of 1 to 64 bytes, values of 1 to 1024, at
// most 256 entries) that only the account's program changes.
//
// An account is immutable once built: Process returns a new Account and
// never writes to the Code or Storage of the one it was given, which is
// what lets a state view share memory with the accounts it hands out, and
// lets verifiers re-execute records in parallel from one view.
//
// # Messages and their processing
//
// An external message is signed by its sender's key and processed by the
// sender's own account (To == From == address of SenderKey): only that
// actor may change the sender's nonce and balance, so the message must
// carry no value, and reaching another account takes a relay message sent
// by the account (tran, or a program's send). A relay message is produced
// by processing another message; its Value was debited from its sender
// when it was produced, and is credited to its recipient when processed.
// Its proof (paper 4.3) is checked by node/exec and the relay layer, not
// here.
//
// Process (see its documentation for the exact steps) either refuses a
// message, which then cannot be part of a block (wrong recipient, wrong
// nonce), or consumes it with one of three statuses:
//
//   - applied: the method's effects stand;
//   - no effect: Algorithm 1's tran with a bill above the balance, which
//     the paper records as (m : ∅); the message is consumed (an external
//     message's nonce advances) and nothing else changes;
//   - failed: the method could not run (bad arguments, unknown method, a
//     program error or its step limit, a credit overflowing 2^64-1, tran
//     from another account); its effects are discarded and a message that
//     carried value sends it back to its sender in an add, so value is
//     never lost. Balances never wrap: an overflow is a failure.
//
// # System methods
//
//	tran  Args = recipient (20 bytes) || bill (uint64, big-endian).
//	      Honoured only when From == To (the account itself orders it); if
//	      balance >= bill: balance -= bill and send {add, Value = bill} to
//	      the recipient; else no effect.
//	add   Args empty. The bill is the message's Value, credited like every
//	      message's value; add does nothing more.
//
// System methods are the same for every account and never run the
// account's program (paper 5.6: they need not be stored per account).
//
// # Merging
//
// A plain add (method add, no arguments, a relay) only adds its value to
// the balance: plain adds commute, produce nothing, and cannot fail unless
// the balance overflows. ProcessAdds processes several as one merged step
// (paper 5.6); it is exactly processing them one by one, in any order, when
// the total does not overflow, and it refuses otherwise.
//
// # Programs
//
// An account's Code is a Starlark program (go.starlark.net, pinned in
// go.mod). Starlark was chosen because it is deterministic by design
// (dicts and sets iterate in insertion order, no clock, no I/O, no
// randomness), is sandboxed (a program reaches nothing but what the host
// passes in), counts execution steps, and is embedded from Go without cgo.
// The dialect: no while loops, no recursion, no top-level loops, frozen
// globals, no load, print discarded; so every loop runs over a finite
// range and the step limit (Limits.StepLimit) bounds every call.
//
// A message with any other method runs the program's top level, then calls
// the global function of the method's name (names starting with "_" are
// private) with no arguments. The program sees:
//
//	self, sender    bytes: the account's and the message sender's address
//	value           int:   the message's value (already credited)
//	args            bytes: the message's arguments
//	balance()       the current balance
//	get(key)        the stored bytes, or None (key: bytes or string)
//	put(key, value) store (value empty: delete); limits as for Storage
//	send(to, method, value, args=b"")
//	                debit value and produce a message; at most 64 per call
//
// Gas (Gas) is what processing costs: GasPerMessage per processed message,
// GasPerSend per produced message, GasPerCodeByte per byte of program run
// and GasPerStep per Starlark step. The schedule is a protocol constant.
//
// Starlark counts steps but not memory: a single step can allocate up to
// the interpreter's own 1 GiB cap (a string repeat, for example). Before
// programs are enabled for untrusted accounts the interpreter needs memory
// accounting; payments (system methods) do not run it.
//
// # Account encoding
//
// The canonical encoding, over node/codec (integers big-endian), is hashed
// into the account's leaf of the state tree (LeafHash = Merkle leaf hash of
// the encoding). Offsets in bytes, c = len(Code):
//
//	off     width  field
//	  0         1  Tag = 0x10
//	  1        20  Address
//	 21         8  Balance
//	 29         8  Nonce
//	 37         4  c = length of Code (at most 16384)
//	 41         c  Code
//	 41+c       4  n = number of storage entries (at most 256)
//	 45+c          n entries, keys in strictly increasing byte order:
//	                 4  k = key length (1 to 64)
//	                 k  key
//	                 4  v = value length (1 to 1024)
//	                 v  value
//
// At most 297005 bytes (AccountMaxSize). The decoder rejects, with the
// node/codec sentinels: a wrong tag (ErrWrongType), input over the maximum,
// a length or count over its limit (ErrTooLarge), a short input
// (ErrTruncated), trailing bytes (ErrTrailingBytes), an empty key or value
// or keys out of order (ErrNonCanonical). Every accepted input re-encodes
// to the same bytes; a decoded account aliases its input (Clone copies).
// The tag 0x10 is outside node/types' 0x01 to 0x04 and node/exec's 0x11,
// 0x12, so no two encodings of the node share a first byte.
package actor
