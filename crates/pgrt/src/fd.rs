//! PostgreSQL's storage/fd.h functions that work without a database,
//! implemented in c/fd.c (counted stdio files, directories and transient
//! descriptors, released at exit; the durable rename/unlink and fsync
//! helpers) and exported here under PostgreSQL's names. Virtual file
//! descriptors and temporary files stay entries that end the caller with
//! a FATAL naming them.

super::c_export! {
    AllocateFile => bgw_c_AllocateFile,
    FreeFile => bgw_c_FreeFile,
    OpenPipeStream => bgw_c_OpenPipeStream,
    ClosePipeStream => bgw_c_ClosePipeStream,
    AllocateDir => bgw_c_AllocateDir,
    ReadDir => bgw_c_ReadDir,
    ReadDirExtended => bgw_c_ReadDirExtended,
    FreeDir => bgw_c_FreeDir,
    OpenTransientFile => bgw_c_OpenTransientFile,
    OpenTransientFilePerm => bgw_c_OpenTransientFilePerm,
    CloseTransientFile => bgw_c_CloseTransientFile,
    BasicOpenFile => bgw_c_BasicOpenFile,
    BasicOpenFilePerm => bgw_c_BasicOpenFilePerm,
    pg_fsync => bgw_c_pg_fsync,
    data_sync_elevel => bgw_c_data_sync_elevel,
    fsync_fname => bgw_c_fsync_fname,
    fsync_fname_ext => bgw_c_fsync_fname_ext,
    durable_rename => bgw_c_durable_rename,
    durable_unlink => bgw_c_durable_unlink,
    MakePGDirectory => bgw_c_MakePGDirectory,
}
