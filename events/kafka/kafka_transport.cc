#include "pavilion/events/kafka_transport.h"

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <future>
#include <map>
#include <mutex>
#include <set>
#include <thread>
#include <unordered_map>
#include <vector>

namespace pavilion::events {
namespace {

using ConfPtr = std::unique_ptr<rd_kafka_conf_t, decltype(&rd_kafka_conf_destroy)>;

Error KafkaError(std::string what) {
  return Error{make_error_code(svc_errc::internal), "kafka: " + std::move(what)};
}

bool Set(rd_kafka_conf_t* conf, const char* key, const std::string& value, std::string* err) {
  char errstr[512];
  if (rd_kafka_conf_set(conf, key, value.c_str(), errstr, sizeof errstr) != RD_KAFKA_CONF_OK) {
    *err = std::string(key) + ": " + errstr;
    return false;
  }
  return true;
}

// Number of partitions of `topic`, waiting for it to appear.
Result<int> PartitionCount(rd_kafka_t* rk, const std::string& topic, int timeout_ms) {
  rd_kafka_topic_t* t = rd_kafka_topic_new(rk, topic.c_str(), nullptr);
  int waited = 0;
  for (;;) {
    const rd_kafka_metadata_t* md = nullptr;
    rd_kafka_resp_err_t err = rd_kafka_metadata(rk, 0, t, &md, 2000);
    int count = 0;
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      if (md->topic_cnt == 1 && md->topics[0].err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        count = md->topics[0].partition_cnt;
      }
      rd_kafka_metadata_destroy(md);
    }
    if (count > 0) {
      rd_kafka_topic_destroy(t);
      return count;
    }
    if (waited >= timeout_ms) break;
    rd_kafka_poll(rk, 200);
    waited += 200;
  }
  rd_kafka_topic_destroy(t);
  return KafkaError("topic " + topic + " not found; create it (see README, Kafka)");
}

std::string RelayCursorKey(const std::string& topic) { return "r/kafka/" + topic; }

class RelayImpl final : public KafkaRelay {
 public:
  RelayImpl(EventStore& store, KafkaOptions options)
      : store_(store), options_(std::move(options)) {}

  ~RelayImpl() override {
    committed_.Close();  // The store's sync thread may be notifying cv_ right now.
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
    if (rk_) {
      rd_kafka_flush(rk_, 5000);
      rd_kafka_destroy(rk_);
    }
  }

  Result<bool> Init() {
    ConfPtr conf(rd_kafka_conf_new(), &rd_kafka_conf_destroy);
    std::string err;
    if (!Set(conf.get(), "bootstrap.servers", options_.bootstrap_servers, &err) ||
        !Set(conf.get(), "client.id", options_.client_id + "-relay", &err) ||
        !Set(conf.get(), "enable.idempotence", "true", &err) ||
        !Set(conf.get(), "acks", "all", &err) || !Set(conf.get(), "linger.ms", "1", &err) ||
        !Set(conf.get(), "message.timeout.ms", "0", &err) ||
        !Set(conf.get(), "partitioner", "murmur2_random", &err)) {
      return KafkaError(err);
    }
    rd_kafka_conf_set_opaque(conf.get(), this);
    rd_kafka_conf_set_dr_msg_cb(conf.get(), &RelayImpl::OnDelivery);
    char errstr[512];
    rk_ = rd_kafka_new(RD_KAFKA_PRODUCER, conf.get(), errstr, sizeof errstr);
    if (rk_ == nullptr) return KafkaError(errstr);
    conf.release();
    auto partitions = PartitionCount(rk_, options_.topic, options_.metadata_timeout_ms);
    if (!partitions.ok()) return partitions.error_detail();

    std::string value;
    if (!store_.kv().Get(RelayCursorKey(options_.topic), &value)) acked_ = GetFixed64BE(value);
    next_ = acked_ + 1;
    committed_ = store_.AddCommitListener([this](uint64_t) { cv_.notify_all(); });
    thread_ = std::thread([this] { Run(); });
    return true;
  }

  uint64_t acknowledged() const override { return acked_.load(); }

 private:
  static void OnDelivery(rd_kafka_t*, const rd_kafka_message_t* msg, void* opaque) {
    static_cast<RelayImpl*>(opaque)->Delivered(reinterpret_cast<uintptr_t>(msg->_private),
                                               msg->err);
  }

  // Runs on the relay thread (inside rd_kafka_poll).
  void Delivered(uint64_t position, rd_kafka_resp_err_t err) {
    if (err) {
      std::fprintf(stderr, "pavilion: kafka delivery of %llu failed: %s; republishing\n",
                   static_cast<unsigned long long>(position), rd_kafka_err2str(err));
      failed_ = true;
      return;
    }
    done_.insert(position);
    uint64_t acked = acked_.load();
    while (!done_.empty() && *done_.begin() == acked + 1) {
      acked = *done_.begin();
      done_.erase(done_.begin());
    }
    acked_.store(acked);
  }

  void Run() {
    std::vector<Envelope> batch;
    uint64_t persisted = acked_.load();
    for (;;) {
      {
        std::unique_lock lock(mu_);
        if (stopping_) break;
        if (store_.head() < next_ && rd_kafka_outq_len(rk_) == 0) {
          cv_.wait_for(lock, std::chrono::milliseconds(50));
        }
        if (stopping_) break;
      }
      if (failed_) {
        // Republish everything not yet acknowledged; consumers skip what they already have.
        rd_kafka_flush(rk_, 10'000);
        failed_ = false;
        done_.clear();
        next_ = acked_.load() + 1;
      }
      batch.clear();
      if (rd_kafka_outq_len(rk_) < 100'000) {
        if (auto ec = store_.ReadAll(next_, 4096, &batch)) {
          std::fprintf(stderr, "pavilion: relay cannot read the log: %s\n", ec.message().c_str());
        }
      }
      for (const auto& env : batch) {
        std::string bytes = EncodeEnvelope(env);
        for (;;) {
          rd_kafka_resp_err_t err = rd_kafka_producev(
              rk_, RD_KAFKA_V_TOPIC(options_.topic.c_str()),
              RD_KAFKA_V_KEY(env.stream_id.data(), env.stream_id.size()),
              RD_KAFKA_V_VALUE(bytes.data(), bytes.size()),
              RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
              RD_KAFKA_V_OPAQUE(reinterpret_cast<void*>(static_cast<uintptr_t>(env.position))),
              RD_KAFKA_V_END);
          if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL) break;
          rd_kafka_poll(rk_, 10);
        }
        next_ = env.position + 1;
      }
      rd_kafka_poll(rk_, batch.empty() ? 5 : 0);
      uint64_t acked = acked_.load();
      if (acked != persisted) {
        // Not synced: losing it only means republishing, which consumers tolerate.
        std::string value;
        PutFixed64BE(value, acked);
        storage::WriteBatch wb;
        wb.Put(RelayCursorKey(options_.topic), value);
        if (!store_.kv().Write(wb, false)) persisted = acked;
      }
    }
  }

  EventStore& store_;
  KafkaOptions options_;
  rd_kafka_t* rk_ = nullptr;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  Listening committed_;  // Wakes the relay thread after each sync.
  std::thread thread_;
  uint64_t next_ = 1;
  std::atomic<uint64_t> acked_{0};
  std::set<uint64_t> done_;
  std::atomic<bool> failed_{false};
};

class SourceImpl final : public EventSource {
 public:
  SourceImpl(EventStore& store, Worker& worker, Processor& processor, KafkaOptions options)
      : store_(store),
        worker_(worker),
        processor_(processor),
        wanted_(processor.event_types()),
        options_(std::move(options)) {}

  ~SourceImpl() override {
    Stop();
    if (rk_) {
      rd_kafka_consumer_close(rk_);
      rd_kafka_destroy(rk_);
    }
  }

  Result<bool> Init() {
    ConfPtr conf(rd_kafka_conf_new(), &rd_kafka_conf_destroy);
    std::string err;
    std::string name(processor_.name());
    if (!Set(conf.get(), "bootstrap.servers", options_.bootstrap_servers, &err) ||
        !Set(conf.get(), "client.id", options_.client_id + "-" + name, &err) ||
        !Set(conf.get(), "group.id", "pavilion-" + name, &err) ||
        !Set(conf.get(), "enable.auto.commit", "false", &err) ||
        !Set(conf.get(), "enable.auto.offset.store", "false", &err) ||
        !Set(conf.get(), "auto.offset.reset", "earliest", &err) ||
        !Set(conf.get(), "fetch.wait.max.ms", "5", &err)) {
      return KafkaError(err);
    }
    char errstr[512];
    rk_ = rd_kafka_new(RD_KAFKA_CONSUMER, conf.get(), errstr, sizeof errstr);
    if (rk_ == nullptr) return KafkaError(errstr);
    conf.release();
    rd_kafka_poll_set_consumer(rk_);
    auto partitions = PartitionCount(rk_, options_.topic, options_.metadata_timeout_ms);
    if (!partitions.ok()) return partitions.error_detail();

    rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(*partitions);
    for (int p = 0; p < *partitions; ++p) {
      std::string value;
      int64_t offset = RD_KAFKA_OFFSET_BEGINNING;
      if (!store_.kv().Get(OffsetKey(p), &value))
        offset = static_cast<int64_t>(GetFixed64BE(value));
      next_offsets_[p] = offset;
      rd_kafka_topic_partition_list_add(list, options_.topic.c_str(), p)->offset = offset;
    }
    rd_kafka_resp_err_t aerr = rd_kafka_assign(rk_, list);
    rd_kafka_topic_partition_list_destroy(list);
    if (aerr) return KafkaError(std::string("assign: ") + rd_kafka_err2str(aerr));
    partitions_ = *partitions;
    return true;
  }

  void Start() override {
    thread_ = std::thread([this] { Run(); });
  }

  void Stop() override {
    stopping_ = true;
    if (thread_.joinable()) thread_.join();
  }

  uint64_t lag() const override { return lag_.load(); }
  std::string_view processor_name() const override { return processor_.name(); }

 private:
  std::string OffsetKey(int partition) const {
    return "k/" + std::string(processor_.name()) + "/" + options_.topic + "/" +
           std::to_string(partition);
  }
  std::string OriginKey(uint64_t origin, int partition) const {
    return "k/" + std::string(processor_.name()) + "/o/" + Hex64(origin) + "/" +
           std::to_string(partition);
  }

  uint64_t LastSeen(uint64_t origin, int partition) {
    auto key = std::make_pair(origin, partition);
    if (auto it = seen_.find(key); it != seen_.end()) return it->second;
    std::string value;
    uint64_t last = 0;
    if (!store_.kv().Get(OriginKey(origin, partition), &value)) last = GetFixed64BE(value);
    return seen_[key] = last;
  }

  struct Msg {
    int partition;
    int64_t offset;
    std::string value;
  };

  void Run() {
    std::vector<Msg> batch;
    while (!stopping_) {
      batch.clear();
      rd_kafka_message_t* m = rd_kafka_consumer_poll(rk_, 100);
      while (m != nullptr) {
        if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
          batch.push_back(Msg{m->partition, m->offset,
                              std::string(static_cast<const char*>(m->payload), m->len)});
        } else if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
          std::fprintf(stderr, "pavilion: kafka consumer %s: %s\n",
                       std::string(processor_.name()).c_str(), rd_kafka_message_errstr(m));
        }
        rd_kafka_message_destroy(m);
        if (batch.size() >= 2048) break;
        m = rd_kafka_consumer_poll(rk_, 0);
      }
      if (!batch.empty()) {
        std::promise<void> handled;
        worker_.Post([this, &batch, &handled] {
          HandleBatch(batch);
          handled.set_value();
        });
        handled.get_future().wait();
      }
      UpdateLag();
    }
  }

  // Runs on the processor's worker.
  void HandleBatch(const std::vector<Msg>& batch) {
    processor_.BeforeBatch();
    Transaction all;
    std::map<int, int64_t> offsets;
    std::map<std::pair<uint64_t, int>, uint64_t> origins;
    for (const auto& msg : batch) {
      offsets[msg.partition] = msg.offset + 1;
      // Handled, checkpointed or not: the lag counts what is still to handle.
      next_offsets_[msg.partition] = msg.offset + 1;
      auto env = DecodeEnvelope(msg.value);
      if (!env.ok()) {
        std::fprintf(stderr, "pavilion: skipping undecodable message at %s/%d@%lld\n",
                     options_.topic.c_str(), msg.partition, static_cast<long long>(msg.offset));
        continue;
      }
      if (env->position <= LastSeen(env->origin, msg.partition)) {
        continue;  // Republished by a relay after a crash: already handled.
      }
      seen_[{env->origin, msg.partition}] = env->position;
      origins[{env->origin, msg.partition}] = env->position;
      if (!wanted_(env->type)) continue;
      Transaction tx(*env);
      processor_.Handle(*env, tx);
      tx.MergeInto(all);
    }
    processor_.AfterBatch(all);
    // As in EmbeddedSource: a batch without effects need not move the stored offsets.
    since_commit_ += batch.size();
    if (all.empty() && since_commit_ < kCheckpointEvery) return;
    since_commit_ = 0;
    for (auto [partition, offset] : offsets) {
      std::string value;
      PutFixed64BE(value, static_cast<uint64_t>(offset));
      all.state().Put(OffsetKey(partition), value);
    }
    for (auto [key, position] : origins) {
      std::string value;
      PutFixed64BE(value, position);
      all.state().Put(OriginKey(key.first, key.second), value);
    }
    all.Commit(store_, /*fatal_on_error=*/true);
  }

  void UpdateLag() {
    uint64_t lag = 0;
    for (int p = 0; p < partitions_; ++p) {
      int64_t low = 0, high = 0;
      if (rd_kafka_get_watermark_offsets(rk_, options_.topic.c_str(), p, &low, &high)) continue;
      int64_t next = next_offsets_[p] < 0 ? low : next_offsets_[p];
      if (high > next) lag += static_cast<uint64_t>(high - next);
    }
    lag_ = lag;
  }

  EventStore& store_;
  Worker& worker_;
  Processor& processor_;
  TypeFilter wanted_;  // Messages of other types are only counted past.
  KafkaOptions options_;
  rd_kafka_t* rk_ = nullptr;
  int partitions_ = 0;
  std::thread thread_;
  std::atomic<bool> stopping_{false};
  std::atomic<uint64_t> lag_{0};
  std::map<int, int64_t> next_offsets_;
  std::map<std::pair<uint64_t, int>, uint64_t> seen_;
  size_t since_commit_ = 0;
};

class MockImpl final : public KafkaMockCluster {
 public:
  ~MockImpl() override {
    if (cluster_) rd_kafka_mock_cluster_destroy(cluster_);
    if (rk_) rd_kafka_destroy(rk_);
  }

  Result<bool> Init(int brokers, const std::string& topic, int partitions) {
    ConfPtr conf(rd_kafka_conf_new(), &rd_kafka_conf_destroy);
    char errstr[512];
    rk_ = rd_kafka_new(RD_KAFKA_PRODUCER, conf.get(), errstr, sizeof errstr);
    if (rk_ == nullptr) return KafkaError(errstr);
    conf.release();
    cluster_ = rd_kafka_mock_cluster_new(rk_, brokers);
    if (cluster_ == nullptr) return KafkaError("could not start the mock cluster");
    if (rd_kafka_mock_topic_create(cluster_, topic.c_str(), partitions, std::min(brokers, 3)) !=
        RD_KAFKA_RESP_ERR_NO_ERROR) {
      return KafkaError("could not create topic " + topic);
    }
    return true;
  }

  std::string bootstrap_servers() const override {
    return rd_kafka_mock_cluster_bootstraps(cluster_);
  }

 private:
  rd_kafka_t* rk_ = nullptr;
  rd_kafka_mock_cluster_t* cluster_ = nullptr;
};

}  // namespace

Result<std::unique_ptr<KafkaRelay>> KafkaRelay::Start(EventStore& store, KafkaOptions options) {
  auto relay = std::make_unique<RelayImpl>(store, std::move(options));
  if (auto ok = relay->Init(); !ok.ok()) return ok.error_detail();
  return std::unique_ptr<KafkaRelay>(std::move(relay));
}

Result<std::unique_ptr<EventSource>> MakeKafkaSource(EventStore& store, Worker& worker,
                                                     Processor& processor, KafkaOptions options) {
  auto source = std::make_unique<SourceImpl>(store, worker, processor, std::move(options));
  if (auto ok = source->Init(); !ok.ok()) return ok.error_detail();
  return std::unique_ptr<EventSource>(std::move(source));
}

Result<std::unique_ptr<KafkaMockCluster>> KafkaMockCluster::Start(int brokers,
                                                                  const std::string& topic,
                                                                  int partitions) {
  auto mock = std::make_unique<MockImpl>();
  if (auto ok = mock->Init(brokers, topic, partitions); !ok.ok()) return ok.error_detail();
  return std::unique_ptr<KafkaMockCluster>(std::move(mock));
}

}  // namespace pavilion::events
