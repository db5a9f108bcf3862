// tailor/ctr.hpp — click-through-rate models on one Eigen core: the feature space (encoder saved
// in every model), sparse multi-field data, optimizers, the one mini-batch trainer, sparse
// logistic regression, factorization machines (FM, FFM), Wide&Deep, DeepFM, PNN, calibration
// (down-sampling correction, Platt, isotonic), and the conversion / multi-task models (naive CVR,
// ESMM, ESCM² IPS and DR, Shared-Bottom, MMoE, PLE, a profile-gated MoE over DeepFM).
#pragma once

#include "tailor/ctr/calibration.hpp"
#include "tailor/ctr/deepfm.hpp"
#include "tailor/ctr/feature_space.hpp"
#include "tailor/ctr/ffm.hpp"
#include "tailor/ctr/fm.hpp"
#include "tailor/ctr/layers.hpp"
#include "tailor/ctr/linear.hpp"
#include "tailor/ctr/multitask.hpp"
#include "tailor/ctr/multitask_data.hpp"
#include "tailor/ctr/losses.hpp"
#include "tailor/ctr/optimizers.hpp"
#include "tailor/ctr/pnn.hpp"
#include "tailor/ctr/profile_moe.hpp"
#include "tailor/ctr/sparse_features.hpp"
#include "tailor/ctr/wide_deep.hpp"
