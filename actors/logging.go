package actors

import (
	"log/slog"

	"github.com/asynkron/protoactor-go/actor"
	"go.uber.org/zap/exp/zapslog"
	"go.uber.org/zap/zapcore"
)

// protoactorLogger routes protoactor's slog output (dead letters,
// "[ACTOR] Recovering", supervision events) into zap under the logger name
// "protoactor". The name must be given through zapslog.WithName: a named
// zap core does not carry its name into the handler (GO_STACK §1.1.2).
func protoactorLogger(core zapcore.Core) func(*actor.ActorSystem) *slog.Logger {
	return func(*actor.ActorSystem) *slog.Logger {
		return slog.New(zapslog.NewHandler(core, zapslog.WithName("protoactor")))
	}
}
