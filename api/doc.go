// Package api holds Cairn's Mesos v1 wire types and their codecs.
//
// The types are generated from proto/mesos/v1/**.proto (see gen.go) into
// mesospb, schedulerpb, executorpb and masterpb. The codecs and RecordIO
// framing follow in later commits.
package api
