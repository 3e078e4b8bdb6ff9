// Package items stores the example resource in the items table that the
// first migration creates.
package items

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// ErrNotFound is returned for an id that no item has.
var ErrNotFound = errors.New("item not found")

// Item is one row of the items table.
type Item struct {
	ID        int64     `db:"id"         json:"id"`
	Name      string    `db:"name"       json:"name"`
	CreatedAt time.Time `db:"created_at" json:"created_at"`
}

// Store reads and writes items in PostgreSQL.
type Store struct {
	pool *pgxpool.Pool
}

// NewStore returns a Store on pool.
func NewStore(pool *pgxpool.Pool) *Store {
	return &Store{pool: pool}
}

const columns = "id, name, created_at"

// Create inserts an item named name and returns it.
func (s *Store) Create(ctx context.Context, name string) (Item, error) {
	rows, _ := s.pool.Query(ctx, "INSERT INTO items (name) VALUES ($1) RETURNING "+columns, name)
	item, err := pgx.CollectExactlyOneRow(rows, pgx.RowToStructByName[Item])
	if err != nil {
		return Item{}, fmt.Errorf("insert item: %w", err)
	}
	return utc(item), nil
}

// Get returns the item with id, or ErrNotFound.
func (s *Store) Get(ctx context.Context, id int64) (Item, error) {
	rows, _ := s.pool.Query(ctx, "SELECT "+columns+" FROM items WHERE id = $1", id)
	item, err := pgx.CollectExactlyOneRow(rows, pgx.RowToStructByName[Item])
	if errors.Is(err, pgx.ErrNoRows) {
		return Item{}, ErrNotFound
	}
	if err != nil {
		return Item{}, fmt.Errorf("select item %d: %w", id, err)
	}
	return utc(item), nil
}

// List returns up to limit items in id order, skipping the first offset.
func (s *Store) List(ctx context.Context, limit, offset int64) ([]Item, error) {
	rows, _ := s.pool.Query(ctx, "SELECT "+columns+" FROM items ORDER BY id LIMIT $1 OFFSET $2", limit, offset)
	list, err := pgx.CollectRows(rows, pgx.RowToStructByName[Item])
	if err != nil {
		return nil, fmt.Errorf("list items: %w", err)
	}
	for i := range list {
		list[i] = utc(list[i])
	}
	return list, nil
}

// utc reports timestamps in UTC whatever the session time zone.
func utc(item Item) Item {
	item.CreatedAt = item.CreatedAt.UTC()
	return item
}
