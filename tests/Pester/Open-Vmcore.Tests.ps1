BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')
    . (Join-Path $PSScriptRoot 'VmcoreTestDump.ps1')
    $script:Dir = Join-Path ([IO.Path]::GetTempPath()) "kdump-pester-$([guid]::NewGuid().ToString('N'))"
    New-Item -ItemType Directory $Dir | Out-Null
    $script:Elf = New-TestElfVmcore -Path (Join-Path $Dir 'vmcore.elf')
    $script:Elf2 = New-TestElfVmcore -Path (Join-Path $Dir 'second.elf') -Release '6.12.0-other'
    [IO.File]::WriteAllBytes((Join-Path $Dir 'empty.bin'), [byte[]]::new(0))
    Set-Content -Path (Join-Path $Dir 'notes.txt') -Value 'this is not a dump'
    $bytes = [IO.File]::ReadAllBytes($Elf)
    [IO.File]::WriteAllBytes((Join-Path $Dir 'truncated.elf'), $bytes[0..(4096 + 2 * 4096 - 1)])
}
AfterAll {
    Get-Vmcore | Close-Vmcore
    Remove-Item $Dir -Recurse -Force -ErrorAction SilentlyContinue
}

Describe 'Open-Vmcore' {
    AfterEach { Get-Vmcore | Close-Vmcore }

    Context 'a valid ELF vmcore' {
        It 'returns a Vmcore with the header facts and makes it current' {
            $v = Open-Vmcore -Path $Elf
            $v | Should -BeOfType 'Kdump.Engine.Model.Vmcore'
            $v.Format | Should -Be 'Elf'
            $v.KernelRelease | Should -Be '6.1.0-pester'
            $v.PageSize | Should -Be 4096
            $v.DumpedPages | Should -Be 6
            $v.ExcludedPages | Should -Be 2
            $v.KaslrOffset | Should -Be 0x1a000000
            (Get-Vmcore -Current).Id | Should -Be $v.Id
        }
        It 'resolves relative paths and wildcards' {
            Push-Location $Dir
            try { $v = Open-Vmcore -Path './vmcore.e*' } finally { Pop-Location }
            $v.Path | Should -Be $Elf
        }
        It 'opens files piped from Get-ChildItem, each as its own dump' {
            $v = @(Get-ChildItem $Dir -Filter '*.elf' | Where-Object Name -notlike 'truncated*' | Open-Vmcore)
            $v.Count | Should -Be 2
            @(Get-Vmcore).Count | Should -Be 2
            ($v.KernelRelease | Sort-Object) | Should -Be @('6.1.0-pester', '6.12.0-other')
        }
        It 'keeps -SystemMap on the object, and refuses a -Vmlinux that is no kernel image' {
            $v = Open-Vmcore $Elf -SystemMap $Elf2 -Force
            $v.SystemMap | Should -Be $Elf2
            $r = Open-Vmcore $Elf -Vmlinux $Elf2 -Force -ErrorVariable err -ErrorAction SilentlyContinue
            $r | Should -BeNullOrEmpty
            $err[0].FullyQualifiedErrorId | Should -BeLike 'Vmlinux*,*'
        }
        It 'says which reader it chose with -Verbose' {
            $out = Open-Vmcore $Elf -Verbose 4>&1
            ($out | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] } | Out-String) | Should -Match 'ELF'
        }
        It 'returns the already open dump unless -Force' {
            $a = Open-Vmcore $Elf
            $b = Open-Vmcore $Elf
            $b.Id | Should -Be $a.Id
            $c = Open-Vmcore $Elf -Force
            $c.Id | Should -Not -Be $a.Id
        }
    }

    Context 'bad input' {
        It '<Name> fails with <Id>' -TestCases @(
            @{ Name = 'empty.bin'; Id = 'VmcoreEmpty' }
            @{ Name = 'notes.txt'; Id = 'VmcoreFormatUnknown' }
            @{ Name = 'missing.elf'; Id = 'VmcoreNotFound' }
        ) {
            $r = Open-Vmcore -Path (Join-Path $Dir $Name) -ErrorVariable e -ErrorAction SilentlyContinue
            $r | Should -BeNullOrEmpty
            $e.Count | Should -Be 1
            $e[0].FullyQualifiedErrorId | Should -BeLike "$Id,*"
            $e[0].Exception.Message | Should -Match ([regex]::Escape($Name))
        }
        It 'opens the good files and reports the bad ones' {
            $r = @(Open-Vmcore -Path $Elf, (Join-Path $Dir 'notes.txt'), $Elf2 -ErrorVariable e -ErrorAction SilentlyContinue)
            $r.Count | Should -Be 2
            $e.Count | Should -Be 1
        }
        It 'opens a truncated dump as incomplete with a warning, pages past the end are lost' {
            $v = Open-Vmcore (Join-Path $Dir 'truncated.elf') -WarningVariable w -WarningAction SilentlyContinue
            $v.Incomplete | Should -BeTrue
            $v.LostPages | Should -Be 4
            $w.Count | Should -BeGreaterThan 0
        }
    }
}

Describe 'Close-Vmcore and Get-Vmcore' {
    It 'closes the current dump and leaves none current (never silently another one)' {
        $a = Open-Vmcore $Elf
        $b = Open-Vmcore $Elf2
        Close-Vmcore
        $b.IsOpen | Should -BeFalse
        Get-Vmcore -Current | Should -BeNullOrEmpty
        (Get-Vmcore).Id | Should -Be $a.Id
        $e = $null
        try { Get-CrashSystem } catch { $e = $_ }
        $e.FullyQualifiedErrorId | Should -BeLike 'VmcoreNotOpen,*'
        $e.Exception.Message | Should -Match 'No dump is current'
        $e.Exception.Message | Should -Match ([regex]::Escape($b.Path))
        Open-Vmcore $Elf | Out-Null   # an open path makes that dump current again
        (Get-Vmcore -Current).Id | Should -Be $a.Id
        $a | Close-Vmcore
        @(Get-Vmcore).Count | Should -Be 0
    }
    It 'reports when nothing is open' {
        Close-Vmcore -ErrorVariable e -ErrorAction SilentlyContinue
        $e[0].FullyQualifiedErrorId | Should -BeLike 'VmcoreNotOpen,*'
    }
}
