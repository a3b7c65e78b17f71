// nenep-slow-subscriber: N subscriptions that each read one event per
// --interval, for the slow-subscriber benchmark (subscribe_bench.sh): the
// server must not slow appends or grow its memory for them.

#include <atomic>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "grpcpp/client_context.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "nenep/v1/subscribe.grpc.pb.h"

ABSL_FLAG(std::string, server, "127.0.0.1:50051", "nenepd address.");
ABSL_FLAG(int, subscribers, 4, "Subscriptions, each on its own connection.");
ABSL_FLAG(bool, from_start, true,
          "Start at position 1 (a long catch-up) instead of at the head.");
ABSL_FLAG(absl::Duration, interval, absl::Seconds(1),
          "Each subscriber reads one event per interval.");
ABSL_FLAG(absl::Duration, duration, absl::Seconds(30),
          "How long to keep the subscriptions open.");

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "opens --subscribers subscriptions to nenepd that read one event per "
      "--interval for --duration, then prints what each received.");
  absl::ParseCommandLine(argc, argv);
  const int n = absl::GetFlag(FLAGS_subscribers);
  const absl::Duration interval = absl::GetFlag(FLAGS_interval);
  const absl::Time until = absl::Now() + absl::GetFlag(FLAGS_duration);
  std::vector<std::thread> threads;
  std::atomic<int> failed{0};
  absl::Mutex mu;
  for (int i = 0; i < n; ++i) {
    threads.emplace_back([&, i] {
      grpc::ChannelArguments args;
      args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
      auto channel =
          grpc::CreateCustomChannel(absl::GetFlag(FLAGS_server),
                                    grpc::InsecureChannelCredentials(), args);
      auto stub = nenep::v1::Subscriptions::NewStub(channel);
      grpc::ClientContext ctx;
      nenep::v1::SubscribeRequest r;
      if (absl::GetFlag(FLAGS_from_start)) {
        r.set_from_start(true);
      } else {
        r.set_from_now(true);
      }
      auto reader = stub->Subscribe(&ctx, r);
      nenep::v1::SubscribeResponse item;
      int64_t events = 0;
      uint64_t last = 0;
      while (absl::Now() < until && reader->Read(&item)) {
        if (item.has_event()) {
          ++events;
          last = item.event().position();
        }
        absl::SleepFor(std::min(interval, until - absl::Now()));
      }
      ctx.TryCancel();
      grpc::Status s = reader->Finish();
      if (!s.ok() && s.error_code() != grpc::StatusCode::CANCELLED) ++failed;
      absl::MutexLock lock(&mu);
      std::cout << absl::StrFormat(
          "subscriber %d: %d events read, last position %d, %s\n", i, events,
          last, s.ok() ? "ok" : s.error_message());
    });
  }
  for (auto& t : threads) t.join();
  return failed > 0 ? 1 : 0;
}
