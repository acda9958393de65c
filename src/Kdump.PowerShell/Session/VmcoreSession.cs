using System.Management.Automation.Runspaces;
using System.Runtime.CompilerServices;
using Kdump.Engine;
using Kdump.Engine.Model;

namespace Kdump.PowerShell.Session;

/// <summary>
/// The dumps open in one runspace and the current one. Kept per runspace so parallel runspaces never share state.
/// Closing the current dump leaves no dump current (it never silently moves to another one): cmdlets then need
/// -Vmcore, or Open-Vmcore of an open dump's path makes that one current again.
/// </summary>
public sealed class VmcoreSession
{
    private static readonly ConditionalWeakTable<Runspace, VmcoreSession> s_sessions = new();
    private static readonly VmcoreSession s_noRunspace = new();
    private readonly List<Vmcore> _open = new();
    private readonly HashSet<int> _closed = new();
    private readonly object _lock = new();
    private string? _lastClosed;

    /// <summary>The session of the runspace running the caller.</summary>
    public static VmcoreSession Current => Runspace.DefaultRunspace is { } rs ? s_sessions.GetValue(rs, _ => new VmcoreSession()) : s_noRunspace;

    public Vmcore? CurrentVmcore { get; private set; }

    public IReadOnlyList<Vmcore> Open { get { lock (_lock) { _open.RemoveAll(v => !v.IsOpen); return _open.ToArray(); } } }

    public void Add(Vmcore vmcore)
    {
        lock (_lock)
        {
            if (!_open.Contains(vmcore)) _open.Add(vmcore);
            CurrentVmcore = vmcore;
        }
    }

    public void MakeCurrent(Vmcore vmcore) { lock (_lock) CurrentVmcore = vmcore; }

    /// <summary>Closes a dump and forgets it. When it was the current dump, no dump is current afterwards.</summary>
    /// <returns>True when the closed dump was the current one.</returns>
    public bool Close(Vmcore vmcore)
    {
        lock (_lock)
        {
            _open.Remove(vmcore);
            _closed.Add(vmcore.Id);
            vmcore.Dispose();
            _open.RemoveAll(v => !v.IsOpen);
            if (ReferenceEquals(CurrentVmcore, vmcore) || CurrentVmcore is { IsOpen: false })
            {
                _lastClosed = vmcore.Path;
                CurrentVmcore = null;
                return true;
            }
            return false;
        }
    }

    /// <summary>The error for a cmdlet run without -Vmcore when no dump is current (VmcoreNotOpen).</summary>
    public KdumpException NoCurrentError()
    {
        var open = Open;
        string why = open.Count == 0
            ? "No dump is open. Open one with Open-Vmcore -Path <file>, or pass -Vmcore."
            : $"No dump is current{(_lastClosed is null ? "" : $" (the current one, '{_lastClosed}', was closed)")}; {open.Count} dump(s) are open: "
              + string.Join(", ", open.Select(v => $"{v.Id} {v.Name}")) + ". Pass -Vmcore <Id|Name|Path> or pipe Get-Vmcore, or make one current with Open-Vmcore <path>.";
        return new KdumpException("VmcoreNotOpen", KdumpErrorKind.InvalidArgument, why, null);
    }

    /// <summary>
    /// The open dump an identity names: by Id, else by file name, else by path (relative paths resolved with
    /// <paramref name="fullPath"/>). VmcoreClosed for a dump of this session that was closed, VmcoreNotFound when
    /// nothing matches, VmcoreAmbiguous when a name matches several open dumps.
    /// </summary>
    public Vmcore Resolve(VmcoreIdentity id, Func<string, string>? fullPath = null)
    {
        var open = Open;
        if (id.Id > 0)
        {
            if (open.FirstOrDefault(v => v.Id == id.Id) is { } byId) return byId;
            lock (_lock)
                if (_closed.Contains(id.Id) || id.IsComplete)
                    throw new KdumpException("VmcoreClosed", KdumpErrorKind.InvalidArgument,
                        $"The dump {id} (Id {id.Id}) has been closed. Open it again with Open-Vmcore.", id);
            throw new KdumpException("VmcoreNotFound", KdumpErrorKind.NotFound, $"No open dump has Id {id.Id}; Get-Vmcore lists the open dumps.", id);
        }
        var text = id.Text ?? "";
        var matches = open.Where(id.Matches).ToList();
        if (matches.Count == 0 && fullPath is not null && text.Length > 0)
        {
            string? full = null;
            try { full = fullPath(text); } catch (Exception) { /* not a usable path: only names could match */ }
            if (full is not null) matches = open.Where(v => v.Paths.Contains(full, StringComparer.Ordinal)).ToList();
        }
        if (matches.Count == 1) return matches[0];
        if (matches.Count > 1)
            throw new KdumpException("VmcoreAmbiguous", KdumpErrorKind.InvalidArgument,
                $"'{text}' names {matches.Count} open dumps ({string.Join(", ", matches.Select(v => $"{v.Id} {v.Path}"))}); pass the Id or the full path.", text);
        throw new KdumpException("VmcoreNotFound", KdumpErrorKind.NotFound, $"No open dump has the Id, name or path '{text}'; Get-Vmcore lists the open dumps.", text);
    }

    /// <summary>An open dump with exactly these files, if any.</summary>
    public Vmcore? FindByPaths(IReadOnlyList<string> paths)
    {
        lock (_lock)
            return _open.FirstOrDefault(v => v.IsOpen && v.Paths.Count == paths.Count && v.Paths.OrderBy(p => p, StringComparer.Ordinal).SequenceEqual(paths.OrderBy(p => p, StringComparer.Ordinal), StringComparer.Ordinal));
    }
}
