// Package redisstore shares one pan123 access token between processes on
// many machines through Redis, so that a fleet of workers of one client ID
// holds one token (the platform allows about 3 live tokens per client ID,
// and minting more logs other instances out).
//
// A [Store] is a [pan123.TokenLeaser]: when the shared token must be
// renewed, one process takes a lease (SET NX PX) and mints, while the others
// wait and load the token it saves. A lease lapses after its TTL, so a
// process that dies while holding it delays the others by at most that long.
// Every lease has a generation number, and a token saved under a lease that
// lapsed mid-mint never replaces one saved under a later lease.
//
//	rdb := redis.NewClient(&redis.Options{Addr: "redis:6379"})
//	c, err := pan123.New(id, secret, pan123.WithTokenStore(redisstore.New(rdb, "pan123:token")))
package redisstore

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/go-pan123/pan123"
)

// DefaultLeaseTTL is how long a lease lasts unless [WithLeaseTTL] says
// otherwise: well above the time one token request takes.
const DefaultLeaseTTL = 15 * time.Second

// ErrNewerToken is returned by a lease's Save when the lease has lapsed and
// a token saved under a later lease is stored: that token is kept.
var ErrNewerToken = errors.New("redisstore: a token saved under a later lease is stored")

// Store keeps the token in a Redis hash at its key, and the lease in the
// string key+":lease". On Redis Cluster, give the key a hash tag (for example
// "{pan123}:token") so that both keys live on the same slot. A Store is safe
// for concurrent use.
type Store struct {
	rdb redis.UniversalClient
	key string
	ttl time.Duration
}

// Option configures a [Store].
type Option func(*Store)

// WithLeaseTTL sets how long a lease lasts: a process that dies while it
// holds the lease keeps the others from renewing for at most d. Make it
// well above the time a token request takes; values below a millisecond
// are ignored. Default: [DefaultLeaseTTL].
func WithLeaseTTL(d time.Duration) Option {
	return func(s *Store) {
		if d >= time.Millisecond {
			s.ttl = d
		}
	}
}

// New returns a store on rdb under key (a *redis.Client, *redis.ClusterClient
// or any other redis.UniversalClient). Pass it to [pan123.WithTokenStore].
func New(rdb redis.UniversalClient, key string, opts ...Option) *Store {
	s := &Store{rdb: rdb, key: key, ttl: DefaultLeaseTTL}
	for _, o := range opts {
		o(s)
	}
	return s
}

// fieldToken is the field of the token hash that holds the JSON of the
// pan123.Token. The scripts below also keep "gen", the generation of the
// lease it was saved under, and "lease", the generation of the latest lease.
const fieldToken = "token"

// leaseScript takes the lease (KEYS[1]) for holder ARGV[1] for ARGV[2] ms
// when it is free, and returns the lease's generation, counted in the token
// hash KEYS[2]; 0 means another holder has it.
var leaseScript = redis.NewScript(`
if not redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return 0 end
return redis.call('HINCRBY', KEYS[2], 'lease', 1)
`)

// saveScript stores the token ARGV[1] in the hash KEYS[1] as saved under
// generation ARGV[2] (empty: the latest lease taken), unless a token of a
// later generation is stored; it returns 1 when it stored the token.
var saveScript = redis.NewScript(`
local gen = ARGV[2]
if gen == '' then gen = redis.call('HGET', KEYS[1], 'lease') or '0' end
local saved = redis.call('HGET', KEYS[1], 'gen') or '0'
if tonumber(gen) < tonumber(saved) then return 0 end
redis.call('HSET', KEYS[1], 'token', ARGV[1], 'gen', gen)
return 1
`)

// releaseScript deletes the lease KEYS[1] if holder ARGV[1] still has it.
var releaseScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`)

// Load returns the stored token, or a zero Token when there is none.
func (s *Store) Load(ctx context.Context) (pan123.Token, error) {
	b, err := s.rdb.HGet(ctx, s.key, fieldToken).Bytes()
	if errors.Is(err, redis.Nil) {
		return pan123.Token{}, nil
	}
	if err != nil {
		return pan123.Token{}, err
	}
	var t pan123.Token
	return t, json.Unmarshal(b, &t)
}

// Save stores a token obtained without the lease. A lease that is older
// than the latest one taken cannot replace it afterwards.
func (s *Store) Save(ctx context.Context, t pan123.Token) error {
	return s.save(ctx, t, "")
}

func (s *Store) save(ctx context.Context, t pan123.Token, gen string) error {
	b, err := json.Marshal(t)
	if err != nil {
		return err
	}
	stored, err := saveScript.Run(ctx, s.rdb, []string{s.key}, b, gen).Int()
	if err == nil && stored == 0 {
		err = ErrNewerToken
	}
	return err
}

// TryLease takes the lease when it is free; it returns a nil lease when
// another process holds it.
func (s *Store) TryLease(ctx context.Context) (pan123.TokenLease, error) {
	id := rand.Text()
	gen, err := leaseScript.Run(ctx, s.rdb, []string{s.key + ":lease", s.key}, id, s.ttl.Milliseconds()).Int64()
	if err != nil || gen == 0 {
		return nil, err
	}
	return &lease{store: s, id: id, gen: gen}, nil
}

// LeaseTTL returns the lease's lifetime, [DefaultLeaseTTL] unless set
// with [WithLeaseTTL].
func (s *Store) LeaseTTL() time.Duration { return s.ttl }

// lease is a lease taken by TryLease: the holder ID and the generation.
type lease struct {
	store *Store
	id    string
	gen   int64
}

// Save stores t unless a token of a later lease is stored ([ErrNewerToken]).
func (l *lease) Save(ctx context.Context, t pan123.Token) error {
	return l.store.save(ctx, t, strconv.FormatInt(l.gen, 10))
}

// Release deletes the lease if it is still this holder's.
func (l *lease) Release(ctx context.Context) error {
	return releaseScript.Run(ctx, l.store.rdb, []string{l.store.key + ":lease"}, l.id).Err()
}
