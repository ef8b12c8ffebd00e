//! SIGHUP: re-read the settings, report what changed, pass it on to the
//! runtime and the workers.

use super::*;

impl Supervisor {
    pub(super) fn reload(&mut self) {
        log::emit(log::LOG, "received SIGHUP, reloading configuration files");
        let Some(mut fresh) = settings::reread(log::LOG) else {
            self.forward_sighup();
            return;
        };
        let mut unaffected = false;
        for key in settings::POSTMASTER_ONLY {
            if fresh.show(key) != self.settings.show(key) {
                unaffected = true;
                log::emit(
                    log::LOG,
                    &format!("parameter \"{key}\" cannot be changed without restarting the server"),
                );
            }
        }
        fresh.shared_preload_libraries = self.settings.shared_preload_libraries.clone();
        fresh.max_worker_processes = self.settings.max_worker_processes;
        for key in [
            "max_parallel_workers",
            "restart_after_crash",
            "log_min_messages",
            "dynamic_library_path",
            "log_line_prefix",
            "log_file",
        ] {
            let (old, new) = (self.settings.show(key), fresh.show(key));
            if old != new {
                let shown = if key == "log_min_messages" {
                    crate::log::level_word(fresh.log_min_messages).to_string()
                } else {
                    new
                };
                log::emit(
                    log::LOG,
                    &format!("parameter \"{key}\" changed to \"{shown}\""),
                );
            }
        }
        // The supervision settings (policy.rs) apply from each worker's
        // next decision on.
        let sv_keys = crate::policy::FIELDS
            .iter()
            .map(|f| format!("worker_{f}"))
            .chain([crate::policy::BY_TYPE_SETTING.to_string()]);
        for key in sv_keys {
            let (old, new) = (self.settings.show(&key), fresh.show(&key));
            if old != new {
                log::emit(
                    log::LOG,
                    &format!("parameter \"{key}\" changed to \"{new}\""),
                );
            }
        }
        log::set_min_level(fresh.log_min_messages);
        crate::log::prefix::set(&fresh.log_line_prefix);
        // Reopened even when unchanged: a rotated (renamed) file is left.
        if let Err(e) = crate::log::file::apply(settings::rundir().as_deref(), &fresh.log_file) {
            log::emit(log::LOG, &e);
        }
        self.seg
            .header()
            .max_parallel_workers
            .store(fresh.max_parallel_workers, Ordering::Relaxed);
        // Module variables defined in this process (by _PG_init).
        if (crate::hooks::get().reload_module_settings)(&fresh) || unaffected {
            settings::report_unaffected(log::LOG);
        }
        settings::with_current(|s| *s = fresh.clone());
        self.settings = fresh;
        for i in 0..self.workers.len() {
            if self.workers[i].is_some() {
                self.sv_publish_policy(i);
            }
        }
        self.forward_sighup();
    }

    pub(super) fn forward_sighup(&self) {
        for &p in self.by_pid.keys() {
            kill(p, libc::SIGHUP);
        }
    }
}
