// vit_edge.hpp: a C++17 RAII wrapper over vit_edge.h. Handles free themselves; a failing
// call throws vit::Error with its status and vit_last_error()'s message.
//
//   vit::Model model("model.vitq");
//   vit::Session session(model);
//   session.set_image_file(0, "photo.jpg");
//   session.run();
//   for (auto [index, p] : session.top_k(0, 3)) std::cout << model.label(index) << " " << p << "\n";
#ifndef VIT_EDGE_HPP
#define VIT_EDGE_HPP

#include <algorithm>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "vit_edge.h"

namespace vit {

class Error : public std::runtime_error {
public:
    Error(vit_status status, const char *message) : std::runtime_error(message), status_(status) {}
    vit_status status() const noexcept { return status_; }
private:
    vit_status status_;
};

inline void check(vit_status s) {
    if (s != VIT_OK) throw Error(s, vit_last_error());
}

class Model {
public:
    explicit Model(const std::string &path, const char *kernels = nullptr) {
        vit_model *m = nullptr;
        check(vit_model_load(path.c_str(), kernels, &m));
        handle_.reset(m);
    }
    vit_model *get() const noexcept { return handle_.get(); }
    int num_classes() const { return vit_model_num_classes(get()); }
    int embedding_size() const { return vit_model_embedding_size(get()); }
    int tokens() const { return vit_model_tokens(get()); }
    int prefix_tokens() const { return vit_model_prefix_tokens(get()); }
    int width() const { return vit_model_width(get()); }
    std::string label(int index) const {
        const char *l = vit_model_label(get(), index);
        return l ? l : std::to_string(index);
    }
private:
    struct Free { void operator()(vit_model *m) const noexcept { vit_model_free(m); } };
    std::unique_ptr<vit_model, Free> handle_;
};

class Session {
public:
    explicit Session(const Model &model, int batch_size = 1, int threads = 1) {
        vit_session *s = nullptr;
        check(vit_session_create(model.get(), batch_size, threads, &s));
        handle_.reset(s);
    }
    vit_session *get() const noexcept { return handle_.get(); }
    void set_image_file(int image, const std::string &path) { check(vit_session_set_image_file(get(), image, path.c_str())); }
    void set_pixels(int image, vit_pixel_format format, const void *pixels, size_t size, int width, int height,
                    size_t row_bytes = 0) {
        check(vit_session_set_pixels(get(), image, format, pixels, size, width, height, row_bytes));
    }
    void run(int count = 0) { check(vit_session_run(get(), count)); }
    std::vector<float> output(vit_output which, int image = 0, int block = 0) const {
        std::vector<float> out(vit_session_output_count(get(), which));
        check(vit_session_output(get(), which, image, block, out.data(), out.size()));
        return out;
    }
    std::vector<std::pair<int, float>> top_k(int image, int k) const {
        int n = std::min(k, static_cast<int>(vit_session_output_count(get(), VIT_OUTPUT_PROBABILITIES)));
        std::vector<int> classes(n > 0 ? n : 0);
        std::vector<float> p(classes.size());
        check(vit_session_top_k(get(), image, n, classes.data(), p.data()));
        std::vector<std::pair<int, float>> out;
        for (size_t i = 0; i < classes.size(); i++) out.emplace_back(classes[i], p[i]);
        return out;
    }
private:
    struct Free { void operator()(vit_session *s) const noexcept { vit_session_free(s); } };
    std::unique_ptr<vit_session, Free> handle_;
};

}  // namespace vit

#endif  // VIT_EDGE_HPP
