package driver

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/thinkey/thinkey/node/genesis"
	"github.com/thinkey/thinkey/node/keys"
)

// WriteKeyFile writes k to a new file at path with mode 0600 and syncs it.
// It refuses to replace an existing file (the error wraps fs.ErrExist): a
// node key is not something to overwrite by accident.
func WriteKeyFile(path string, k keys.Key) error {
	data, err := k.Marshal()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("write key file: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, keys.FileMode)
	if err != nil {
		return fmt.Errorf("write key file: %w", err)
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		os.Remove(path)
		return fmt.Errorf("write key file %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		os.Remove(path)
		return fmt.Errorf("write key file %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write key file %s: %w", path, err)
	}
	return nil
}

// LoadKeyFile reads a key file, refusing one that others may read or write
// (keys.ErrExposed) and naming the file in every error.
func LoadKeyFile(path string) (keys.Key, error) {
	data, err := readBounded(path, keys.MaxFileSize, true)
	if err != nil {
		return keys.Key{}, fmt.Errorf("key file %s: %w", path, err)
	}
	k, err := keys.Parse(data)
	if err != nil {
		return keys.Key{}, fmt.Errorf("key file %s: %w", path, err)
	}
	return k, nil
}

// LoadGenesisFile reads and validates a genesis file.
func LoadGenesisFile(path string) (*genesis.Genesis, error) {
	data, err := readBounded(path, genesis.MaxFileSize, false)
	if err != nil {
		return nil, fmt.Errorf("genesis file %s: %w", path, err)
	}
	g, err := genesis.Parse(data)
	if err != nil {
		return nil, fmt.Errorf("genesis file %s: %w", path, err)
	}
	return g, nil
}

// WriteFile writes data to path through a temporary file renamed into
// place, so a crash leaves the old file or the new one, never half of one.
func WriteFile(path string, data []byte, perm os.FileMode) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Chmod(perm); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// readBounded reads a regular file of at most limit bytes, checking the key
// file permissions when secret is set.
func readBounded(path string, limit int64, secret bool) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !info.Mode().IsRegular() {
		return nil, errors.New("not a regular file")
	}
	if secret {
		if err := keys.CheckFileMode(info.Mode()); err != nil {
			return nil, err
		}
	}
	if info.Size() > limit {
		return nil, fmt.Errorf("%d bytes, at most %d expected", info.Size(), limit)
	}
	return io.ReadAll(io.LimitReader(f, limit+1))
}
