using Kdump.Engine.Program;
using Kdump.Engine.Types;

namespace Kdump.Engine.Linux.Fs;

/// <summary>Offsets of the VFS structures the file and path helpers read, from the program's type finder.</summary>
internal sealed class FsLayout
{
    public readonly ulong FilePath, FileInode, FilePos, FileFlags, FileMode, FilePrivate;
    public readonly ulong DentryParent, DentryName, DentryInode, QstrName, QstrLen;
    /// <summary>dentry.d_hash.pprev: NULL when the dentry is unhashed (deleted).</summary>
    public readonly ulong? DentryHashPprev, DentryOp, DopDname;
    public readonly ulong MountMnt, MountParent, MountMountpoint, VfsRoot, VfsSb;
    public readonly ulong InodeMode, InodeIno, InodeSb, SbMagic, SbType, FsTypeName;
    public readonly ulong FilesFdt, FdtMaxFds, FdtFd, FsRoot, FsPwd;
    /// <summary>struct path: mnt and dentry.</summary>
    public readonly ulong PathMnt, PathDentry;
    public readonly ulong? SocketSk, SockProt, ProtoName;

    /// <summary>The program's VFS layout (read once, kept in <see cref="KernelProgram.Caches"/>).</summary>
    public static FsLayout For(KernelProgram p) => p.Caches.FsLayout.GetOrCreate(() => new FsLayout(p));

    private FsLayout(KernelProgram p)
    {
        var file = p.RequireType("struct file", Why); var dentry = p.RequireType("struct dentry", Why); var qstr = p.RequireType("struct qstr", Why);
        var mount = p.RequireType("struct mount", Why); var vfs = p.RequireType("struct vfsmount", Why); var inode = p.RequireType("struct inode", Why);
        var sb = p.RequireType("struct super_block", Why); var files = p.RequireType("struct files_struct", Why); var fdt = p.RequireType("struct fdtable", Why);
        var fs = p.RequireType("struct fs_struct", Why); var fst = p.RequireType("struct file_system_type", Why);
        FilePath = Off(file, "f_path"); FileInode = Off(file, "f_inode"); FilePos = Off(file, "f_pos"); FileFlags = Off(file, "f_flags");
        FileMode = Off(file, "f_mode"); FilePrivate = Off(file, "private_data");
        DentryParent = Off(dentry, "d_parent"); DentryName = Off(dentry, "d_name"); DentryInode = Off(dentry, "d_inode");
        try { DentryHashPprev = Off(dentry, "d_hash") + Off(p.RequireType("struct hlist_bl_node", Why), "pprev"); } catch (KdumpException) { DentryHashPprev = null; }
        try { DentryOp = Off(dentry, "d_op"); DopDname = Off(p.RequireType("struct dentry_operations", Why), "d_dname"); } catch (KdumpException) { DentryOp = DopDname = null; }
        QstrName = Off(qstr, "name"); QstrLen = Off(qstr, "len");
        MountMnt = Off(mount, "mnt"); MountParent = Off(mount, "mnt_parent"); MountMountpoint = Off(mount, "mnt_mountpoint");
        VfsRoot = Off(vfs, "mnt_root"); VfsSb = Off(vfs, "mnt_sb");
        InodeMode = Off(inode, "i_mode"); InodeIno = Off(inode, "i_ino"); InodeSb = Off(inode, "i_sb");
        SbMagic = Off(sb, "s_magic"); SbType = Off(sb, "s_type"); FsTypeName = Off(fst, "name");
        FilesFdt = Off(files, "fdt"); FdtMaxFds = Off(fdt, "max_fds"); FdtFd = Off(fdt, "fd");
        FsRoot = Off(fs, "root"); FsPwd = Off(fs, "pwd");
        var path = p.RequireType("struct path", "file and directory paths");
        PathMnt = KernelLayout.RequireOffset(path, "struct path", "mnt", "file and directory paths");
        PathDentry = KernelLayout.RequireOffset(path, "struct path", "dentry", "file and directory paths");
        try
        {
            SocketSk = Off(p.RequireType("struct socket", Why), "sk");
            SockProt = Off(p.RequireType("struct sock", Why), "__sk_common.skc_prot");
            ProtoName = Off(p.RequireType("struct proto", Why), "name");
        }
        catch (KdumpException) { SocketSk = SockProt = ProtoName = null; }
    }

    private const string Why = "open files and paths";
    private static ulong Off(KType t, string member) => KernelLayout.RequireOffset(t, t.DisplayName, member, Why);
}
