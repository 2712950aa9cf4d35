// A persistent thread pool with a blocking parallel-for (vk_pool_run). Tasks are
// claimed from an atomic counter, so uneven tasks balance themselves. No allocation
// after creation.
//
// Waiting spins first, then sleeps: a forward pass dispatches about eight jobs per
// encoder block, a few microseconds to a millisecond apart, and waking a thread
// sleeping on a condition variable costs tens of microseconds on a virtual machine
// (measured: ViT-S int8 on 2 threads spent ~6% in the scheduler). Workers spin on
// the job generation for about kSpin pause instructions (~0.1-0.3 ms) before blocking,
// and the caller spins the same way for the last worker.
#include "vit_kernels.h"

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <pthread.h>
#include <vector>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
static inline void cpu_relax() { _mm_pause(); }
#elif defined(__aarch64__)
static inline void cpu_relax() { __asm__ __volatile__("yield"); }
#else
static inline void cpu_relax() {}
#endif

namespace {
constexpr int kSpin = 4000;
}

struct vk_pool {
    // pthreads, not std::thread: libstdc++ 14's std::thread takes the address of an
    // inline function with default visibility, which non-PIC objects cannot reference
    // from a shared library (libvitedge on aarch64 failed to link).
    std::vector<pthread_t> threads;
    std::mutex mutex;
    std::condition_variable start;
    std::condition_variable done;
    // The current job: written by the caller before it publishes a new generation
    // (release), read by workers after they see it (acquire).
    vk_task_fn fn = nullptr;
    void *context = nullptr;
    size_t tasks = 0;
    std::atomic<uint64_t> generation{0};
    std::atomic<size_t> next{0};
    std::atomic<size_t> active{0};  // workers still inside the current job
    std::atomic<bool> stop{false};

    void work(size_t worker) {
        for (;;) {
            const size_t t = next.fetch_add(1, std::memory_order_relaxed);
            if (t >= tasks) return;
            fn(context, t, worker);
        }
    }

    void loop(size_t worker) {
        uint64_t seen = 0;
        for (;;) {
            int spins = 0;
            while (generation.load(std::memory_order_acquire) == seen && !stop.load(std::memory_order_acquire)) {
                if (++spins < kSpin) {
                    cpu_relax();
                    continue;
                }
                std::unique_lock<std::mutex> lock(mutex);
                start.wait(lock, [&] {
                    return stop.load(std::memory_order_acquire) || generation.load(std::memory_order_acquire) != seen;
                });
            }
            if (stop.load(std::memory_order_acquire)) return;
            seen = generation.load(std::memory_order_acquire);
            work(worker);
            if (active.fetch_sub(1, std::memory_order_acq_rel) == 1) {
                std::lock_guard<std::mutex> lock(mutex);  // the caller may be asleep on `done`
                done.notify_one();
            }
        }
    }
};

namespace {
struct vk_worker_start {
    vk_pool *pool;
    size_t worker;
};

void *vk_worker_main(void *arg) {
    vk_worker_start start = *static_cast<vk_worker_start *>(arg);
    delete static_cast<vk_worker_start *>(arg);
    start.pool->loop(start.worker);
    return nullptr;
}
}  // namespace

extern "C" vk_pool *vk_pool_create(size_t threads) {
    vk_pool *p = new vk_pool();
    for (size_t w = 1; w < threads; ++w) {
        pthread_t t;
        auto *arg = new vk_worker_start{p, w};
        if (pthread_create(&t, nullptr, vk_worker_main, arg) != 0) {
            delete arg;  // fewer workers than asked: the pool still runs every task
            break;
        }
        p->threads.push_back(t);
    }
    return p;
}

extern "C" void vk_pool_destroy(vk_pool *p) {
    if (!p) return;
    {
        std::lock_guard<std::mutex> lock(p->mutex);
        p->stop.store(true, std::memory_order_release);
    }
    p->start.notify_all();
    for (pthread_t t : p->threads) pthread_join(t, nullptr);
    delete p;
}

extern "C" size_t vk_pool_threads(const vk_pool *p) { return p ? p->threads.size() + 1 : 1; }

extern "C" void vk_pool_run(vk_pool *p, vk_task_fn fn, void *context, size_t tasks) {
    if (tasks == 0) return;
    if (!p || p->threads.empty() || tasks == 1) {
        for (size_t t = 0; t < tasks; ++t) fn(context, t, 0);
        return;
    }
    p->fn = fn;
    p->context = context;
    p->tasks = tasks;
    p->next.store(0, std::memory_order_relaxed);
    p->active.store(p->threads.size(), std::memory_order_relaxed);
    {
        // Publishing under the mutex: a worker deciding to sleep checks the generation
        // while holding it, so it either sees the new job or is woken below.
        std::lock_guard<std::mutex> lock(p->mutex);
        p->generation.fetch_add(1, std::memory_order_release);
    }
    p->start.notify_all();
    p->work(0);
    for (int spins = 0; p->active.load(std::memory_order_acquire) != 0; ++spins) {
        if (spins < kSpin) {
            cpu_relax();
            continue;
        }
        std::unique_lock<std::mutex> lock(p->mutex);
        p->done.wait(lock, [&] { return p->active.load(std::memory_order_acquire) == 0; });
    }
}
