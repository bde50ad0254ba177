package driver

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/thinkey/thinkey/accel"
	"github.com/thinkey/thinkey/netq"
	"github.com/thinkey/thinkey/netq/quic"
	"github.com/thinkey/thinkey/node/api"
	"github.com/thinkey/thinkey/node/config"
	"github.com/thinkey/thinkey/storage"
)

// StoreDir is the directory of the Pebble store inside the data directory.
const StoreDir = "db"

// shutdownGrace bounds how long the HTTP server may take to finish its
// requests at shutdown.
const shutdownGrace = 5 * time.Second

// Command returns `thinkey node`: run a validator from a configuration file,
// with flags overriding its values. It stops cleanly when the command's
// context ends (SIGINT, SIGTERM in the thinkey binary).
func Command() *cobra.Command {
	var configPath string
	var o overrides
	cmd := &cobra.Command{
		Use:   "node --config FILE",
		Short: "Run a validator node",
		Long: `Run a validator node from a TOML configuration (thinkey init writes one).
Flags override the file's values. A relative node.data_dir is taken relative
to the configuration file's directory, and the key and genesis files relative
to the data directory. The node stops cleanly on SIGINT or SIGTERM; everything
it committed is on disk (storage syncs every commit), so a kill at any point
loses nothing committed.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if configPath == "" {
				return errors.New("--config is required (thinkey init writes a configuration)")
			}
			cfg, err := config.Load(configPath)
			if err != nil {
				return err
			}
			// Relative paths of the file are relative to the file, so a
			// configuration works from any working directory.
			if !filepath.IsAbs(cfg.Node.DataDir) {
				cfg.Node.DataDir = filepath.Join(filepath.Dir(configPath), cfg.Node.DataDir)
			}
			if err := o.apply(cmd, &cfg); err != nil {
				return err
			}
			if err := cfg.Validate(); err != nil {
				return fmt.Errorf("config %s with flags: %w", configPath, err)
			}
			if f := cmd.Flag("hash-backend"); (f == nil || !f.Changed) && cfg.Accel.HashBackend != accel.Auto {
				if _, _, err := accel.SelectHashBackend(accel.SelectOptions{Backend: cfg.Accel.HashBackend}); err != nil {
					return fmt.Errorf("accel.hash_backend: %w", err)
				}
			}
			if o.pprofListen != "" {
				if err := servePprof(cmd.Context(), o.pprofListen); err != nil {
					return err
				}
			}
			return RunNode(cmd.Context(), cfg, cmd.ErrOrStderr())
		},
	}
	f := cmd.Flags()
	f.StringVar(&configPath, "config", "", "configuration file (TOML)")
	f.StringVar(&o.dataDir, "data-dir", "", "override node.data_dir")
	f.StringVar(&o.listen, "listen", "", "override network.listen (UDP host:port)")
	f.StringVar(&o.apiListen, "api-listen", "", "override api.listen (TCP host:port; \"off\" disables the API)")
	f.StringVar(&o.logLevel, "log-level", "", "override log.level (debug, info, warn, error)")
	f.StringVar(&o.logFormat, "log-format", "", "override log.format (text, json)")
	f.IntVar(&o.pinConsensus, "pin-consensus-core", 0, "override accel.pin_consensus_core (-1: no pinning)")
	f.IntVar(&o.pinExecutor, "pin-executor-core", 0, "override accel.pin_executor_core (-1: no pinning)")
	f.IntVar(&o.verifyWorkers, "verify-workers", 0, "override accel.verify_workers")
	f.StringVar(&o.pprofListen, "pprof-listen", "", "serve Go's net/http/pprof on this TCP address (profiling; keep it local)")
	return cmd
}

// overrides are the flags of `thinkey node` that replace config values.
type overrides struct {
	dataDir, listen, apiListen, logLevel, logFormat string
	pinConsensus, pinExecutor, verifyWorkers        int
	pprofListen                                     string
}

func (o *overrides) apply(cmd *cobra.Command, c *config.Config) error {
	changed := cmd.Flags().Changed
	if changed("data-dir") {
		c.Node.DataDir = o.dataDir
	}
	if changed("listen") {
		c.Network.Listen = o.listen
	}
	if changed("api-listen") {
		c.API.Listen = o.apiListen
		if o.apiListen == "off" {
			c.API.Listen = ""
		}
	}
	if changed("log-level") {
		c.Log.Level = o.logLevel
	}
	if changed("log-format") {
		c.Log.Format = o.logFormat
	}
	if changed("pin-consensus-core") {
		c.Accel.PinConsensusCore = o.pinConsensus
	}
	if changed("pin-executor-core") {
		c.Accel.PinExecutorCore = o.pinExecutor
	}
	if changed("verify-workers") {
		c.Accel.VerifyWorkers = o.verifyWorkers
	}
	return nil
}

// NewLogger returns the slog logger a configuration asks for, writing to w.
func NewLogger(c config.Log, w io.Writer) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(c.Level)) // validated by config
	opts := &slog.HandlerOptions{Level: level}
	if c.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// RunNode runs a validator from a validated configuration until ctx ends:
// it loads the key and the genesis, opens the store and the QUIC transport,
// serves the HTTP API, runs the node, and closes everything in reverse
// order. logs receives the logs.
func RunNode(ctx context.Context, cfg config.Config, logs io.Writer) error {
	log := NewLogger(cfg.Log, logs)
	key, err := LoadKeyFile(cfg.Path(cfg.Node.KeyFile))
	if err != nil {
		return err
	}
	gen, err := LoadGenesisFile(cfg.Path(cfg.Node.GenesisFile))
	if err != nil {
		return err
	}
	peerAddrs, err := peerAddresses(cfg.Network.Peers)
	if err != nil {
		return err
	}
	db, err := storage.Open(filepath.Join(cfg.Node.DataDir, StoreDir), storage.Options{
		CacheSize:    cfg.Storage.CacheBytes,
		MemTableSize: uint64(cfg.Storage.MemTableBytes),
		Logger:       log.With("component", "pebble"),
	})
	if err != nil {
		return err
	}
	defer func() {
		if err := db.Close(); err != nil {
			log.Error("close store", "err", err)
		}
	}()
	conn, err := net.ListenPacket("udp", cfg.Network.Listen)
	if err != nil {
		return fmt.Errorf("network.listen %s: %w", cfg.Network.Listen, err)
	}
	tr, err := quic.New(quic.Config{
		Identity:   key.Identity,
		PacketConn: conn,
		Limits:     netq.Limits{MaxFrameSize: cfg.Network.MaxFrameBytes, QueueMessages: cfg.Network.PeerQueue},
		Logger:     log.With("component", "netq"),
	})
	if err != nil {
		conn.Close()
		return fmt.Errorf("start transport: %w", err)
	}
	defer tr.Close()
	node, err := New(Options{
		Config: cfg, Key: key, Genesis: gen, Transport: tr, PeerAddresses: peerAddrs, DB: db, Logger: log,
	})
	if err != nil {
		return err
	}
	if err := registerProcessCollectors(node.Registry()); err != nil {
		return fmt.Errorf("metrics: %w", err)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	apiDone := make(chan error, 1)
	var srv *http.Server
	if cfg.API.Listen != "" {
		ln, err := net.Listen("tcp", cfg.API.Listen)
		if err != nil {
			return fmt.Errorf("api.listen %s: %w", cfg.API.Listen, err)
		}
		srv = api.NewServer(cfg.API, node.API(), node.Registry(), log.With("component", "api")).HTTPServer()
		go func() {
			err := srv.Serve(ln)
			if errors.Is(err, http.ErrServerClosed) {
				err = nil
			}
			apiDone <- err
			cancel() // a dead API takes the node down with it: restart both
		}()
		log.Info("api listening", "addr", ln.Addr().String())
	}
	runErr := node.Run(ctx)
	if srv != nil {
		sctx, scancel := context.WithTimeout(context.Background(), shutdownGrace)
		_ = srv.Shutdown(sctx)
		scancel()
		if err := <-apiDone; err != nil && runErr == nil {
			runErr = fmt.Errorf("api: %w", err)
		}
	}
	return runErr
}

// peerAddresses parses network.peers ("peer-id@host:port") into address
// overrides of the genesis committee's addresses.
func peerAddresses(peers []string) (map[netq.PeerID]string, error) {
	out := map[netq.PeerID]string{}
	for i, p := range peers {
		id, addr, _ := strings.Cut(p, "@")
		pid, err := netq.ParsePeerID(id)
		if err != nil {
			return nil, fmt.Errorf("network.peers[%d]: %w", i, err)
		}
		out[pid] = addr
	}
	return out, nil
}

// servePprof serves the runtime profiles on addr until ctx ends.
func servePprof(ctx context.Context, addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("--pprof-listen %s: %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	go func() {
		<-ctx.Done()
		_ = srv.Close()
	}()
	return nil
}
