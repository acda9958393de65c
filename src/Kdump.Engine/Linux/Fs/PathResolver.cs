using System.Text;
using Kdump.Engine.Program;

namespace Kdump.Engine.Linux.Fs;

/// <summary>A (vfsmount, dentry) pair: struct path.</summary>
public readonly record struct VfsPath(ulong Mount, ulong Dentry)
{
    public bool IsNull => Mount == 0 || Dentry == 0;
}

/// <summary>
/// d_path over a dump: walks dentry->d_parent up to the mount's root, crosses to the parent mount at its
/// mountpoint (struct mount: mnt_parent, mnt_mountpoint), and stops at the task's root (fs_struct.root) or at the
/// top of the mount tree. Pseudo filesystems get the names /proc shows: <c>pipe:[ino]</c>, <c>socket:[ino]</c>,
/// <c>anon_inode:[eventfd]</c>. Every walk is bounded.
/// </summary>
public sealed class PathResolver
{
    public const uint PipeFsMagic = 0x50495045, SockFsMagic = 0x534F434B, AnonInodeFsMagic = 0x09041934;
    /// <summary>Longest path built (the kernel's PATH_MAX) and deepest walk.</summary>
    public const int MaxPath = 4096, MaxDepth = 1024;

    private readonly KernelProgram _p;
    internal FsLayout Layout { get; }
    private readonly Dictionary<ulong, string> _names = new();

    public PathResolver(KernelProgram program) { _p = program; Layout = FsLayout.For(program); }

    /// <summary>A struct path (mnt, dentry) at <paramref name="structPathAddress"/>, with the offsets from the types.</summary>
    public VfsPath ReadPath(ulong structPathAddress) => new(_p.ReadU64(structPathAddress + Layout.PathMnt), _p.ReadU64(structPathAddress + Layout.PathDentry));

    /// <summary>The dentry's own name (d_name).</summary>
    public string DentryName(ulong dentry)
    {
        if (_names.TryGetValue(dentry, out var n)) return n;
        uint len = _p.ReadU32(dentry + Layout.DentryName + Layout.QstrLen);
        ulong name = _p.ReadU64(dentry + Layout.DentryName + Layout.QstrName);
        n = name == 0 ? "" : _p.ReadCString(name, (int)Math.Min(len == 0 ? 256u : len, 255u) + 1);
        if (_names.Count < 100_000) _names[dentry] = n;
        return n;
    }

    /// <summary>
    /// Names of dentries whose d_op has a d_dname (the kernel's d_path uses it instead of walking): pipefs, sockfs,
    /// anon inodes, namespace files, and simple_dname's "/name (deleted)" for pseudo files (shmem behind /dev/zero
    /// and SysV shm). Without a symbol for d_dname, the filesystem magic decides for pipes, sockets and anon inodes.
    /// </summary>
    private string? DynamicName(ulong dentry)
    {
        ulong inode = _p.ReadU64(dentry + Layout.DentryInode);
        ulong ino = inode != 0 ? _p.ReadU64(inode + Layout.InodeIno) : 0;
        string? fn = null;
        if (Layout.DentryOp is { } opOff && Layout.DopDname is { } dnOff)
        {
            ulong ops = _p.ReadU64(dentry + opOff);
            ulong dname = ops == 0 ? 0 : _p.ReadU64(ops + dnOff);
            if (dname == 0) return null;
            fn = _p.Symbolize(dname) is { Offset: 0 } s ? s.Symbol.Name : null;
        }
        switch (fn)
        {
            case "pipefs_dname": return $"pipe:[{ino}]";
            case "sockfs_dname": return $"socket:[{ino}]";
            case "anon_inodefs_dname": return "anon_inode:" + DentryName(dentry);
            case "simple_dname": return "/" + DentryName(dentry) + " (deleted)";
        }
        if (inode == 0) return null;
        ulong magic = SuperMagic(inode) & 0xffffffff;
        if (magic == PipeFsMagic) return $"pipe:[{ino}]";
        if (magic == SockFsMagic) return $"socket:[{ino}]";
        if (magic == AnonInodeFsMagic) return "anon_inode:" + DentryName(dentry);
        return null;
    }

    /// <summary>d_unlinked(): unhashed and not a root (its own parent); /proc then appends " (deleted)".</summary>
    public bool IsUnlinked(ulong dentry)
    {
        if (Layout.DentryHashPprev is not { } pprev) return false;
        return _p.ReadU64(dentry + pprev) == 0 && _p.ReadU64(dentry + Layout.DentryParent) != dentry;
    }

    /// <summary>The superblock magic of the inode's filesystem.</summary>
    public ulong SuperMagic(ulong inode) => _p.ReadU64(_p.ReadU64(inode + Layout.InodeSb) + Layout.SbMagic);

    /// <summary>The path as /proc/PID/fd shows it, relative to <paramref name="root"/> (the task's root).</summary>
    public string Resolve(VfsPath path, VfsPath root)
    {
        if (path.IsNull) return "";
        if (DynamicName(path.Dentry) is { } dynamic) return dynamic;
        var parts = new List<string>();
        ulong vfsmnt = path.Mount, dentry = path.Dentry;
        ulong mount = vfsmnt - Layout.MountMnt;
        int total = 0;
        for (int depth = 0; depth < MaxDepth; depth++)
        {
            if (dentry == root.Dentry && vfsmnt == root.Mount) break;
            ulong mntRoot = _p.ReadU64(vfsmnt + Layout.VfsRoot);
            ulong parent = _p.ReadU64(dentry + Layout.DentryParent);
            if (dentry == mntRoot || dentry == parent)
            {
                ulong parentMount = _p.ReadU64(mount + Layout.MountParent);
                if (parentMount != mount && parentMount != 0)
                {
                    dentry = _p.ReadU64(mount + Layout.MountMountpoint);
                    mount = parentMount;
                    vfsmnt = mount + Layout.MountMnt;
                    continue;
                }
                if (dentry != mntRoot) // a dentry that is its own parent but not a mount root: a disconnected tree
                {
                    parts.Add(DentryName(dentry));
                }
                break;
            }
            string name = DentryName(dentry);
            total += name.Length + 1;
            if (total > MaxPath) throw new KdumpException("PathTooLong", KdumpErrorKind.LimitExceeded, $"The path of dentry 0x{path.Dentry:x} is longer than {MaxPath} bytes.", path.Dentry);
            parts.Add(name);
            dentry = parent;
        }
        if (parts.Count == 0) return "/";
        var sb = new StringBuilder();
        for (int i = parts.Count - 1; i >= 0; i--) sb.Append('/').Append(parts[i]);
        if (IsUnlinked(path.Dentry)) sb.Append(" (deleted)");
        return sb.ToString();
    }
}
