package scheduler

import (
	"context"
	"log/slog"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/cairnhq/cairn/api"
	"github.com/cairnhq/cairn/api/mesospb"
)

// BenchmarkDecline measures one call on pooled keep-alive connections, in
// both codecs.
func BenchmarkDecline(b *testing.B) {
	for _, codec := range []api.Codec{api.Protobuf, api.JSON} {
		b.Run(codec.ContentType(), func(b *testing.B) {
			m := newFakeMaster(b)
			c := New(Config{
				Masters:       []string{m.addr()},
				FrameworkInfo: &mesospb.FrameworkInfo{User: proto.String("root"), Name: proto.String("bench")},
				Codec:         codec,
				Logger:        slog.New(slog.DiscardHandler),
			})
			h, evs := events()
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { done <- c.Run(ctx, h) }()
			recv(b, evs, "SUBSCRIBED")
			ids := []*mesospb.OfferID{{Value: proto.String("O1")}}
			for b.Loop() {
				if err := c.Decline(ctx, ids, nil); err != nil {
					b.Fatal(err)
				}
				<-m.calls
			}
			cancel()
			<-done
		})
	}
}
