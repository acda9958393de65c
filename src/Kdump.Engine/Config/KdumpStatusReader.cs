using System.Globalization;

namespace Kdump.Engine.Config;

/// <summary>Options of Get-KdumpStatus: how the kdump service state is asked.</summary>
public sealed class KdumpStatusOptions
{
    /// <summary>unit → `systemctl is-active` answer, or null when systemd cannot be asked. Null = ask systemctl on a live system only.</summary>
    public Func<string, string?>? ServiceState { get; init; }
}

/// <summary>Whether the running kernel has memory reserved and a crash kernel loaded (Get-KdumpStatus, "kdumpctl status").</summary>
public static class KdumpStatusReader
{
    public static readonly string[] ServiceUnits = ["kdump", "kdump-tools"];

    public static KdumpStatus Read(string? root, KdumpStatusOptions? options = null)
    {
        var host = new HostRoot(root);
        Func<string, string?> service = options?.ServiceState ?? (host.IsLiveSystem ? HostProbes.ServiceState : _ => null);
        var reasons = new List<string>();

        string? cmdline = host.ReadSmallText("/proc/cmdline", 64 * 1024);
        var ck = cmdline is null ? [] : KernelCmdline.CrashKernelValues(cmdline.Trim());
        if (cmdline is null) reasons.Add("/proc/cmdline cannot be read.");
        else if (ck.Count == 0) reasons.Add("The running kernel was booted without crashkernel= on its command line (/proc/cmdline).");
        foreach (var v in ck.Where(v => v.Kind == CrashKernelKind.Invalid))
            reasons.Add($"crashkernel={v.Value} on /proc/cmdline is not valid: {v.Error}.");

        var regions = ParseIomem(host.ReadSmallText("/proc/iomem", 4 << 20));
        ulong? size = ReadULong(host, "/sys/kernel/kexec_crash_size");
        bool? loaded = ReadULong(host, "/sys/kernel/kexec_crash_loaded") is { } l ? l != 0 : null;

        ulong reserved = size ?? (ulong)regions.Where(r => r.AddressKnown).Sum(r => (decimal)r.Size);
        if (size is null && regions.Count == 0)
            reasons.Add("No memory is reserved for a crash kernel (no \"Crash kernel\" range in /proc/iomem, no /sys/kernel/kexec_crash_size).");
        else if (size == 0 || (size is null && regions.All(r => r.AddressKnown) && reserved == 0))
            reasons.Add("No memory is reserved for a crash kernel (/sys/kernel/kexec_crash_size is 0).");

        if (loaded is null)
            reasons.Add("/sys/kernel/kexec_crash_loaded is missing: the kernel has no kexec/kdump support or /sys is not mounted.");
        else if (loaded == false)
            reasons.Add("No crash kernel is loaded (/sys/kernel/kexec_crash_loaded is 0): start the kdump service (kdumpctl start / kdump-config load).");

        string? unit = null, state = null;
        foreach (string u in ServiceUnits)
        {
            string? st = service(u);
            if (st is null) continue;
            if (unit is null || st == "active") { unit = u; state = st; }
            if (st == "active") break;
        }
        bool operational = loaded == true && (size ?? reserved) > 0;
        // A crash kernel loaded by hand still captures a dump; an inactive service is worth saying, not blocking.
        if (state is not null && state != "active")
            reasons.Add(operational
                ? $"The {unit} service is {state}, although a crash kernel is loaded: it will not be reloaded after configuration or kernel changes."
                : $"The {unit} service is {state}.");
        return new KdumpStatus
        {
            Root = host.Root,
            Operational = operational,
            Reasons = reasons,
            CommandLineCrashKernel = ck,
            ReservedRegions = regions,
            ReservedBytes = size,
            CrashKernelLoaded = loaded,
            Service = unit,
            ServiceState = state,
        };
    }

    /// <summary>"Crash kernel" lines of /proc/iomem (nested lines are indented), start-end in hex.</summary>
    internal static List<CrashKernelRegion> ParseIomem(string? iomem)
    {
        var list = new List<CrashKernelRegion>();
        if (iomem is null) return list;
        foreach (string raw in iomem.Split('\n'))
        {
            int colon = raw.IndexOf(" : ", StringComparison.Ordinal);
            if (colon < 0 || raw[(colon + 3)..].Trim() != "Crash kernel") continue;
            var range = raw[..colon].Trim().Split('-');
            if (range.Length != 2
                || !ulong.TryParse(range[0], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out ulong start)
                || !ulong.TryParse(range[1], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out ulong end)
                || end < start) continue;
            list.Add(new CrashKernelRegion { Start = start, End = end, AddressKnown = !(start == 0 && end == 0) });
            if (list.Count >= 64) break;
        }
        return list;
    }

    private static ulong? ReadULong(HostRoot host, string path) =>
        host.ReadSmallText(path, 64) is { } t && ulong.TryParse(t.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out ulong v) ? v : null;
}
