//! The channel order of the sorting direct method (McCollum et al. 2006), shared by
//! [`super::Direct`] and [`super::SlowScale`].
//!
//! The linear search for the channel that fires runs over the channels in an adaptive order: a
//! channel that fires moves one place forward, so the frequent ones (Ca buffering, in a spine)
//! are found after a few comparisons. The order only changes which uniform number picks which
//! channel, not the law of the process; [`SearchOrder::restart`] puts the model's order back at
//! every trajectory, so results do not depend on which thread ran what before.

/// The channels a method searches, in their current search order.
#[derive(Debug, Clone)]
pub struct SearchOrder {
    channels: Vec<u32>,
}

impl SearchOrder {
    /// The given channels (ascending: the model's order) as the starting order.
    pub fn new(channels: Vec<u32>) -> Self {
        debug_assert!(channels.windows(2).all(|w| w[0] < w[1]));
        SearchOrder { channels }
    }

    /// Back to the model's order.
    pub fn restart(&mut self) {
        self.channels.sort_unstable();
    }

    /// The channels in search order.
    pub fn channels(&self) -> &[u32] {
        &self.channels
    }

    /// The sum of the channels' propensities, added in search order.
    #[inline]
    pub fn total(&self, propensities: &[f64]) -> f64 {
        self.channels
            .iter()
            .map(|&r| propensities[r as usize])
            .sum()
    }

    /// The channel whose cumulative propensity interval (in search order) contains `target`,
    /// moved one place forward; None when drift left `target` beyond the sum.
    #[inline]
    pub fn pick(&mut self, propensities: &[f64], target: f64) -> Option<usize> {
        let mut acc = 0.0;
        for (k, &r) in self.channels.iter().enumerate() {
            acc += propensities[r as usize];
            if target < acc {
                if k > 0 {
                    self.channels.swap(k, k - 1);
                }
                return Some(r as usize);
            }
        }
        None
    }
}
