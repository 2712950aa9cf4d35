// A persistent thread pool with a blocking parallel-for (vk_pool_run). Workers
// sleep on a condition variable between runs; tasks are claimed from an atomic
// counter, so uneven tasks balance themselves. No allocation after creation.
#include "vit_kernels.h"

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

struct vk_pool {
    std::vector<std::thread> threads;
    std::mutex mutex;
    std::condition_variable start;
    std::condition_variable done;
    // The current job, published under the mutex with a new generation number.
    vk_task_fn fn = nullptr;
    void *context = nullptr;
    size_t tasks = 0;
    uint64_t generation = 0;
    std::atomic<size_t> next{0};
    size_t active = 0;  // workers still inside the current job
    bool stop = false;

    void work(size_t worker) {
        for (;;) {
            const size_t t = next.fetch_add(1, std::memory_order_relaxed);
            if (t >= tasks) return;
            fn(context, t, worker);
        }
    }

    void loop(size_t worker) {
        uint64_t seen = 0;
        std::unique_lock<std::mutex> lock(mutex);
        for (;;) {
            start.wait(lock, [&] { return stop || generation != seen; });
            if (stop) return;
            seen = generation;
            lock.unlock();
            work(worker);
            lock.lock();
            if (--active == 0) done.notify_one();
        }
    }
};

extern "C" vk_pool *vk_pool_create(size_t threads) {
    vk_pool *p = new vk_pool();
    for (size_t w = 1; w < threads; ++w) p->threads.emplace_back([p, w] { p->loop(w); });
    return p;
}

extern "C" void vk_pool_destroy(vk_pool *p) {
    if (!p) return;
    {
        std::lock_guard<std::mutex> lock(p->mutex);
        p->stop = true;
    }
    p->start.notify_all();
    for (auto &t : p->threads) t.join();
    delete p;
}

extern "C" size_t vk_pool_threads(const vk_pool *p) { return p ? p->threads.size() + 1 : 1; }

extern "C" void vk_pool_run(vk_pool *p, vk_task_fn fn, void *context, size_t tasks) {
    if (tasks == 0) return;
    if (!p || p->threads.empty() || tasks == 1) {
        for (size_t t = 0; t < tasks; ++t) fn(context, t, 0);
        return;
    }
    {
        std::lock_guard<std::mutex> lock(p->mutex);
        p->fn = fn;
        p->context = context;
        p->tasks = tasks;
        p->next.store(0, std::memory_order_relaxed);
        p->active = p->threads.size();
        ++p->generation;
    }
    p->start.notify_all();
    p->work(0);
    std::unique_lock<std::mutex> lock(p->mutex);
    p->done.wait(lock, [&] { return p->active == 0; });
}
