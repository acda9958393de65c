using System.Text;
using Kdump.Engine.Dump;

namespace Kdump.Engine.Symbols;

/// <summary>
/// What the dump says about its kernel: VMCOREINFO's BUILD-ID and OSRELEASE, the KASLR offset, and optionally a
/// way to read kernel virtual memory (to compare linux_banner, which works for kernels older than 5.9 too).
/// </summary>
public sealed class DumpIdentity
{
    public string? BuildId { get; init; }
    public string? Release { get; init; }
    public ulong KernelOffset { get; init; }
    /// <summary>Reads <c>length</c> bytes of kernel virtual memory at an address; returns null (or throws) when unreadable.</summary>
    public Func<ulong, int, byte[]?>? ReadKernelMemory { get; init; }
    /// <summary>The dump's linux_banner when the caller already has it (takes precedence over reading memory).</summary>
    public string? Banner { get; init; }

    public static DumpIdentity FromVmcoreInfo(VmcoreInfo? info, Func<ulong, int, byte[]?>? readKernelMemory = null) => new()
    {
        BuildId = info?.BuildId?.Trim().ToLowerInvariant() is { Length: > 0 } b ? b : null,
        Release = info?.OsRelease?.Trim() is { Length: > 0 } r ? r : null,
        KernelOffset = info?.KernelOffset ?? 0,
        ReadKernelMemory = readKernelMemory,
    };
}

/// <summary>The outcome of <see cref="VmlinuxMatcher.Check"/>.</summary>
public sealed class VmlinuxMatchResult
{
    /// <summary>True when no compared value differed.</summary>
    public bool Matches { get; init; }
    /// <summary>True when at least one value could be compared.</summary>
    public bool Verified { get; init; }
    /// <summary>What was compared ("build-id", "release", "linux_banner").</summary>
    public IReadOnlyList<string> Compared { get; init; } = [];
    /// <summary>The mismatch description (when <see cref="Matches"/> is false and -Force allowed it).</summary>
    public string? Mismatch { get; init; }
}

/// <summary>
/// Refuses a vmlinux that is not the dump's kernel: build-id (ELF note vs VMCOREINFO BUILD-ID), release (banner vs
/// OSRELEASE) and linux_banner (file vs dump memory). A mismatch throws <c>VmlinuxMismatch</c> unless forced.
/// </summary>
public static class VmlinuxMatcher
{
    public static VmlinuxMatchResult Check(DumpIdentity dump, VmlinuxFile vmlinux, bool force, EngineHost? host = null)
    {
        ArgumentNullException.ThrowIfNull(dump);
        ArgumentNullException.ThrowIfNull(vmlinux);
        host ??= EngineHost.Null;
        var compared = new List<string>();
        var diffs = new List<string>();

        if (dump.BuildId is { } db && vmlinux.BuildId is { } vb)
        {
            compared.Add("build-id");
            // VMCOREINFO prints 20 bytes; compare the common prefix when one id is longer.
            int n = Math.Min(db.Length, vb.Length);
            if (n < 16 || !string.Equals(db[..n], vb[..n], StringComparison.OrdinalIgnoreCase))
                diffs.Add($"build-id {vb} in the vmlinux, {db} in the dump");
        }
        if (dump.Release is { } dr && vmlinux.Release is { } vr)
        {
            compared.Add("release");
            if (!string.Equals(dr, vr, StringComparison.Ordinal)) diffs.Add($"release {vr} in the vmlinux, {dr} in the dump");
        }
        if (vmlinux.Banner is { } vbanner && DumpBanner(dump, vmlinux, host) is { } dbanner)
        {
            compared.Add("linux_banner");
            if (!string.Equals(Normalize(dbanner), Normalize(vbanner), StringComparison.Ordinal))
                diffs.Add($"linux_banner \"{Normalize(vbanner)}\" in the vmlinux, \"{Normalize(dbanner)}\" in the dump");
        }

        if (compared.Count == 0)
            host.Warning($"Cannot verify that '{vmlinux.Path}' matches the dump: neither a build-id, a release nor linux_banner could be compared.");
        if (diffs.Count == 0)
            return new VmlinuxMatchResult { Matches = true, Verified = compared.Count > 0, Compared = compared };

        string release = dump.Release ?? ReleaseFromDumpBanner(dump, vmlinux, host) ?? "<release>";
        string message = $"The vmlinux '{vmlinux.Path}' does not match the dump: {string.Join("; ", diffs)}. {InstallHint(release)}";
        if (!force)
            throw new KdumpException("VmlinuxMismatch", KdumpErrorKind.Mismatch, message + " Use -Force to use it anyway.", vmlinux.Path);
        host.Warning(message + " Continuing because -Force was given: types and symbols may be wrong.");
        return new VmlinuxMatchResult { Matches = false, Verified = true, Compared = compared, Mismatch = message };
    }

    /// <summary>What to install to get the debuginfo vmlinux of <paramref name="release"/>, by distribution.</summary>
    public static string InstallHint(string release)
    {
        if (release.Contains(".el", StringComparison.Ordinal) || release.Contains(".fc", StringComparison.Ordinal))
            return $"Install the matching debuginfo: 'dnf debuginfo-install kernel-{release}' (package kernel-debuginfo-{release}; vmlinux in /usr/lib/debug/lib/modules/{release}/vmlinux).";
        if (release.EndsWith("-generic", StringComparison.Ordinal) || release.EndsWith("-lowlatency", StringComparison.Ordinal)
            || release.EndsWith("-aws", StringComparison.Ordinal) || release.EndsWith("-azure", StringComparison.Ordinal))
            return $"Install the matching debug kernel: 'apt install linux-image-unsigned-{release}-dbgsym' (from ddebs.ubuntu.com; vmlinux in /usr/lib/debug/boot/vmlinux-{release}).";
        if (release.Contains("-amd64", StringComparison.Ordinal) || release.Contains("-arm64", StringComparison.Ordinal) || release.Contains("-cloud", StringComparison.Ordinal) || release.Contains("-rt-", StringComparison.Ordinal))
            return $"Install the matching debug kernel: 'apt install linux-image-{release}-dbg' (vmlinux in /usr/lib/debug/boot/vmlinux-{release}).";
        return $"Install the debug kernel of release {release}: linux-image-{release}-dbg on Debian, linux-image-unsigned-{release}-dbgsym on Ubuntu, kernel-debuginfo-{release} on RHEL/Fedora.";
    }

    private static string Normalize(string banner) => banner.TrimEnd('\n', '\r', '\0', ' ');

    private static string? ReleaseFromDumpBanner(DumpIdentity dump, VmlinuxFile v, EngineHost host) => VmlinuxFile.ReleaseFromBanner(DumpBanner(dump, v, host));

    private static string? DumpBanner(DumpIdentity dump, VmlinuxFile vmlinux, EngineHost host)
    {
        if (dump.Banner is { } b) return b;
        if (dump.ReadKernelMemory is not { } read || vmlinux.BannerAddress is not { } addr || vmlinux.Banner is not { } vb) return null;
        int len = Math.Min(VmlinuxFile.MaxBannerBytes, Encoding.UTF8.GetByteCount(vb) + 1);
        byte[]? bytes;
        try { bytes = read(unchecked(addr + dump.KernelOffset), len); }
        catch (KdumpException e)
        {
            host.Verbose($"linux_banner is not readable in the dump at 0x{addr + dump.KernelOffset:x}: {e.Message}");
            return null;
        }
        if (bytes is null || bytes.Length == 0) return null;
        int nul = Array.IndexOf(bytes, (byte)0);
        var text = Encoding.UTF8.GetString(bytes, 0, nul < 0 ? bytes.Length : nul);
        return text.Length == 0 ? null : text;
    }
}
