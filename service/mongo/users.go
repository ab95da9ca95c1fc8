package mongo

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/taskready/taskready/service/user"
)

// userDoc is a user as the original Mongoose model stored it; "password"
// holds the bcrypt hash.
type userDoc struct {
	ID        bson.ObjectID `bson:"_id"`
	Name      string        `bson:"name"`
	Email     string        `bson:"email"`
	Password  string        `bson:"password"`
	CreatedAt time.Time     `bson:"createdAt"`
	UpdatedAt time.Time     `bson:"updatedAt"`
}

func (d *userDoc) user() *user.User {
	return &user.User{ID: d.ID.Hex(), Name: d.Name, Email: d.Email, PasswordHash: d.Password, CreatedAt: d.CreatedAt}
}

// Users is the MongoDB user.Store.
type Users struct {
	c *mongo.Collection
	g *Guard
}

var _ user.Store = (*Users)(nil)

// NewUsers returns the user store of db, failing fast while g (which may
// be nil) is open.
func NewUsers(db *mongo.Database, g *Guard) *Users {
	return &Users{c: db.Collection(UsersCollection), g: g}
}

// Create inserts u and sets its ID and CreatedAt.
func (s *Users) Create(ctx context.Context, u *user.User) error {
	ctx, done, err := s.g.enter(ctx)
	if err != nil {
		return err
	}
	defer done()
	now := time.Now().UTC().Truncate(time.Millisecond)
	d := userDoc{ID: bson.NewObjectID(), Name: u.Name, Email: u.Email, Password: u.PasswordHash, CreatedAt: now, UpdatedAt: now}
	if _, err := s.c.InsertOne(ctx, d); err != nil {
		if mongo.IsDuplicateKeyError(err) {
			return user.ErrEmailTaken
		}
		return s.g.classify(fmt.Errorf("insert user: %w", err))
	}
	u.ID, u.CreatedAt = d.ID.Hex(), now
	return nil
}

// ByEmail finds a user by normalised email.
func (s *Users) ByEmail(ctx context.Context, email string) (*user.User, error) {
	return s.find(ctx, bson.D{{Key: "email", Value: email}})
}

// ByID finds a user by id; a malformed id is simply not found.
func (s *Users) ByID(ctx context.Context, id string) (*user.User, error) {
	oid, err := bson.ObjectIDFromHex(id)
	if err != nil {
		return nil, user.ErrNotFound
	}
	return s.find(ctx, bson.D{{Key: "_id", Value: oid}})
}

func (s *Users) find(ctx context.Context, filter bson.D) (*user.User, error) {
	ctx, done, err := s.g.enter(ctx)
	if err != nil {
		return nil, err
	}
	defer done()
	var d userDoc
	if err := s.c.FindOne(ctx, filter).Decode(&d); err != nil {
		if errors.Is(err, mongo.ErrNoDocuments) {
			return nil, user.ErrNotFound
		}
		return nil, s.g.classify(fmt.Errorf("find user: %w", err))
	}
	return d.user(), nil
}

// SetPassword stores the bcrypt hash of user id.
func (s *Users) SetPassword(ctx context.Context, id, hash string) error {
	ctx, done, err := s.g.enter(ctx)
	if err != nil {
		return err
	}
	defer done()
	oid, err := bson.ObjectIDFromHex(id)
	if err != nil {
		return user.ErrNotFound
	}
	res, err := s.c.UpdateOne(ctx, bson.D{{Key: "_id", Value: oid}}, bson.D{{Key: "$set", Value: bson.D{
		{Key: "password", Value: hash},
		{Key: "updatedAt", Value: time.Now().UTC().Truncate(time.Millisecond)},
	}}})
	if err != nil {
		return s.g.classify(fmt.Errorf("set password: %w", err))
	}
	if res.MatchedCount == 0 {
		return user.ErrNotFound
	}
	return nil
}

// Delete removes the user with id.
func (s *Users) Delete(ctx context.Context, id string) error {
	ctx, done, err := s.g.enter(ctx)
	if err != nil {
		return err
	}
	defer done()
	oid, err := bson.ObjectIDFromHex(id)
	if err != nil {
		return user.ErrNotFound
	}
	res, err := s.c.DeleteOne(ctx, bson.D{{Key: "_id", Value: oid}})
	if err != nil {
		return s.g.classify(fmt.Errorf("delete user: %w", err))
	}
	if res.DeletedCount == 0 {
		return user.ErrNotFound
	}
	return nil
}
