// tailor/segment.hpp — customer segmentation: NMF latent factors, K-Means (and mini-batch),
// quality indices, bootstrap stability and k-selection, segment profiles, and the Segmenter
// pipeline (scaling → NMF → factor scores → K-Means).
#pragma once

#include "tailor/segment/kmeans.hpp"
#include "tailor/segment/nmf.hpp"
#include "tailor/segment/profiles.hpp"
#include "tailor/segment/quality.hpp"
#include "tailor/segment/segmenter.hpp"
#include "tailor/segment/stability.hpp"
