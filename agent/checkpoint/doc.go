// Package checkpoint is the agent's on-disk memory: what it must know after
// a restart to find the executors it left running and to finish their tasks'
// status update streams. It follows Mesos's layout under <work_dir>/meta and,
// as Mesos, holds only frameworks that asked for it (FrameworkInfo.checkpoint).
//
//	meta/version                                   format of this tree (plain text)
//	meta/boot_id                                   boot id of the host when last written
//	meta/resources/resources.info                  checkpointed resources (reservations, volumes)
//	meta/slaves/<agent>/slave.info                 AgentInfo
//	meta/slaves/<agent>/frameworks/<fw>/framework.info                FrameworkInfo
//	.../frameworks/<fw>/executors/<exec>/executor.info                ExecutorInfo
//	.../executors/<exec>/runs/<container>/run.info                    RunInfo (Cairn's)
//	.../runs/<container>/pids/forked.pid                              init pid
//	.../runs/<container>/tasks/<task>/task.info                       TaskInfo
//	.../runs/<container>/tasks/<task>/task.updates                    update log
//
// Every file except meta/version is a sequence of framed records: a 4-byte
// magic, then per record its payload length, a kind byte and a CRC-32C of
// kind and payload. Whole files are written atomically (temporary file,
// fsync, rename, fsync of the directory) and hold exactly one record; a
// task.updates log is appended to, one fsync per record. A file that fails
// its checksum is reported as ErrCorrupt and never trusted. A log whose last
// record is incomplete or fails its checksum was torn by a crash during an
// append that was never acknowledged to anyone: the record is dropped (and
// reported) and the valid prefix is kept. A failed append (disk full) is
// undone by truncating the log to its previous length.
//
// I/O: files under the meta directory only, through the small FS interface
// (tests inject failures). Threading: a Store is used by one goroutine (the
// agent's state loop); Read is called once, before the loop starts.
package checkpoint
