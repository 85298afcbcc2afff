// The Kafka transport: the same processors, fed through a Kafka topic instead of the local log.
//
// KafkaRelay is a transactional outbox: services append to the local EventStore exactly as in
// embedded mode, and the relay publishes the log to the topic in order (idempotent producer,
// acks=all, key = stream id so an aggregate stays in one partition), remembering in the store how
// far Kafka has acknowledged. After a crash it republishes from there; consumers drop the
// duplicates.
//
// KafkaSource feeds one processor from the topic. It does not use Kafka's committed offsets: the
// next offset of every partition, and the last origin position seen per (origin, partition),
// are written in the same batch as the processor's effects. So a restart resumes exactly where
// the durable state ends, and a republished event (same origin, position not newer) is skipped.
//
// KafkaMockCluster wraps librdkafka's mock cluster (real Kafka protocol on loopback) for tests
// and local trials.
//
// Thread-safety: each object runs its own thread; the public methods are thread-safe.
#pragma once

#include <memory>
#include <string>

#include "pavilion/events/event_store.h"
#include "pavilion/events/processor.h"

namespace pavilion::events {

struct KafkaOptions {
  std::string bootstrap_servers;
  std::string topic = "pavilion.events";
  std::string client_id = "pavilion";
  // How long to wait at start for the topic's metadata.
  int metadata_timeout_ms = 30'000;
};

class KafkaRelay {
 public:
  static Result<std::unique_ptr<KafkaRelay>> Start(EventStore& store, KafkaOptions options);
  virtual ~KafkaRelay() = default;
  // The last log position Kafka has acknowledged.
  virtual uint64_t acknowledged() const = 0;
};

Result<std::unique_ptr<EventSource>> MakeKafkaSource(EventStore& store, Worker& worker,
                                                     Processor& processor, KafkaOptions options);

class KafkaMockCluster {
 public:
  static Result<std::unique_ptr<KafkaMockCluster>> Start(int brokers, const std::string& topic,
                                                         int partitions);
  virtual ~KafkaMockCluster() = default;
  virtual std::string bootstrap_servers() const = 0;
};

}  // namespace pavilion::events
