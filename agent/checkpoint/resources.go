package checkpoint

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/cairnhq/cairn/api/internalpb"
	"github.com/cairnhq/cairn/api/mesospb"
)

// The agent's checkpointed resources: the dynamic reservations and
// persistent volumes the master asked it to keep (CheckpointResources).
// They live where Mesos keeps them, meta/resources/resources.info, outside
// any agent id's directory: they belong to the machine's resources, so an
// agent that comes back under a new id still has them, as in Mesos. The
// file holds one CheckpointResources record (its agent_id unset).

func (s *Store) resourcesPath() string { return filepath.Join(s.dir, "resources", "resources.info") }

// WriteResources replaces the checkpointed resources atomically; an empty
// list is written too (everything was unreserved), unlike a missing file.
func (s *Store) WriteResources(rs []*mesospb.Resource) error {
	if err := s.fs.MkdirAll(filepath.Dir(s.resourcesPath())); err != nil {
		return fmt.Errorf("checkpoint resources: %w", err)
	}
	return writeProto(s.fs, s.resourcesPath(), &internalpb.CheckpointResources{Resources: rs})
}

// ReadResources returns the checkpointed resources and whether any were
// ever written. A file that fails its checks is an error wrapping
// ErrCorrupt.
func (s *Store) ReadResources() ([]*mesospb.Resource, bool, error) {
	b, err := readFile(s.fs, s.resourcesPath())
	if errors.Is(err, os.ErrNotExist) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	m := &internalpb.CheckpointResources{}
	if err := partialIn.Unmarshal(b, m); err != nil {
		return nil, false, fmt.Errorf("read %s: %v: %w", s.resourcesPath(), err, ErrCorrupt)
	}
	return m.GetResources(), true, nil
}
