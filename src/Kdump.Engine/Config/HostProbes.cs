using System.Diagnostics;
using System.Globalization;

namespace Kdump.Engine.Config;

/// <summary>What the host's makedumpfile can do (makedumpfile -v).</summary>
public sealed class MakedumpfileCapabilities
{
    public string Version { get; init; } = "";
    public bool Lzo { get; init; }
    public bool Snappy { get; init; }
    public bool Zstd { get; init; }

    public bool Supports(DumpCompression c) => c switch
    {
        DumpCompression.Lzo => Lzo,
        DumpCompression.Snappy => Snappy,
        DumpCompression.Zstd => Zstd,
        _ => true,   // zlib is always built in
    };

    /// <summary>Parses `makedumpfile -v`: "makedumpfile: version 1.7.2 (...)" then "lzo\tenabled" lines.</summary>
    public static MakedumpfileCapabilities? Parse(string output)
    {
        string version = "";
        bool lzo = false, snappy = false, zstd = false, any = false;
        foreach (string raw in output.Split('\n'))
        {
            string line = raw.Trim();
            if (line.StartsWith("makedumpfile: version ", StringComparison.Ordinal))
            {
                any = true;
                version = line["makedumpfile: version ".Length..].Split(' ')[0];
                continue;
            }
            var parts = line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length != 2) continue;
            bool on = parts[1] == "enabled";
            switch (parts[0].ToLowerInvariant())
            {
                case "lzo": lzo = on; any = true; break;
                case "snappy": snappy = on; any = true; break;
                case "zstd": zstd = on; any = true; break;
            }
        }
        return any ? new MakedumpfileCapabilities { Version = version, Lzo = lzo, Snappy = snappy, Zstd = zstd } : null;
    }
}

/// <summary>Questions asked of the live host by running its tools; each is replaceable for tests.</summary>
public static class HostProbes
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    /// <summary>Runs a program from PATH with arguments; null when it is not installed, fails to start or times out.</summary>
    public static (int ExitCode, string Output)? Run(string program, params string[] args)
    {
        string? exe = FindInPath(program);
        if (exe is null) return null;
        var psi = new ProcessStartInfo(exe) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args) psi.ArgumentList.Add(a);
        try
        {
            using var p = Process.Start(psi);
            if (p is null) return null;
            var stdout = p.StandardOutput.ReadToEndAsync();
            var stderr = p.StandardError.ReadToEndAsync();
            if (!p.WaitForExit(Timeout))
            {
                try { p.Kill(true); } catch (InvalidOperationException) { }
                return null;
            }
            string text = stdout.Result;
            if (text.Length > 1 << 16) text = text[..(1 << 16)];
            return (p.ExitCode, text + stderr.Result);
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or IOException or InvalidOperationException) { return null; }
    }

    public static string? FindInPath(string program)
    {
        foreach (string dir in (Environment.GetEnvironmentVariable("PATH") ?? "/usr/sbin:/usr/bin:/sbin:/bin").Split(':', StringSplitOptions.RemoveEmptyEntries)
                     .Concat(["/usr/sbin", "/sbin"]))
        {
            string p = Path.Combine(dir, program);
            if (File.Exists(p)) return p;
        }
        return null;
    }

    /// <summary>The live host's makedumpfile capabilities; null when it is not installed.</summary>
    public static MakedumpfileCapabilities? ProbeMakedumpfile() =>
        Run("makedumpfile", "-v") is { } r ? MakedumpfileCapabilities.Parse(r.Output) : null;

    /// <summary>
    /// `systemctl is-active unit` when systemd runs this host: "active", "inactive", "failed", ...; null when systemd
    /// is not the init system or systemctl is missing.
    /// </summary>
    public static string? ServiceState(string unit)
    {
        if (!Directory.Exists("/run/systemd/system")) return null;
        return Run("systemctl", "is-active", unit) is { } r ? r.Output.Trim().Split('\n')[0].Trim() : null;
    }

    /// <summary>MemTotal of a meminfo file, in bytes; null when unreadable.</summary>
    internal static ulong? ParseMemTotal(string? meminfo)
    {
        if (meminfo is null) return null;
        foreach (string line in meminfo.Split('\n'))
        {
            if (!line.StartsWith("MemTotal:", StringComparison.Ordinal)) continue;
            var parts = line["MemTotal:".Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length >= 1 && ulong.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out ulong kb) && kb < (ulong.MaxValue >> 10))
                return parts.Length > 1 && parts[1] == "kB" ? kb << 10 : kb;
        }
        return null;
    }
}
