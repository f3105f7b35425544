// Package ids defines distinct string types for the identifiers Cairn passes
// around (agents, frameworks, tasks, offers, executors, containers), so that a
// task id can never be used where an agent id is expected.
//
// The values are the Mesos ones: the `value` field of the v1 *ID messages.
// The package is pure: no I/O, no state.
package ids

// AgentID names an agent, as Mesos makes them: "<masterID>-S<n>".
type AgentID string

// FrameworkID names a framework: "<masterID>-<nnnn>".
type FrameworkID string

// TaskID is chosen by the framework; unique within the framework.
type TaskID string

// OfferID names an offer: "<masterID>-O<n>".
type OfferID string

// ExecutorID is unique within its framework.
type ExecutorID string

// ContainerID names one container on one agent (a UUID).
type ContainerID string

// MasterID is the leading master's id (a UUID), the prefix of the ids it makes.
type MasterID string
